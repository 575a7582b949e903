/**
 * The guest screen on a canvas. Each animation frame it asks the worker for the card's
 * registers (a small copy) and, when RepaintPolicy says the picture changed, renders the video
 * memory straight out of the shared WebAssembly.Memory with the same renderer the command-line
 * screenshots use. The canvas has the mode's own size; CSS scales it with crisp pixels.
 */
import type { Remote } from 'comlink';
import type { FrameInfo, MachineApi, MachineStatus } from '../src/worker/machine-api.ts';
import { renderFrame, type Frame } from '../src/display/vga-render.ts';
import { RepaintPolicy } from './repaint-policy.ts';
import { videoModeName } from './video-mode.ts';
import { containedRect, type Rect } from './display-geometry.ts';

export class Display {
  private readonly context: CanvasRenderingContext2D;
  private readonly policy = new RepaintPolicy();
  private vram: Uint8Array | undefined;
  private machineId = -1;
  private pixels: Uint8ClampedArray<ArrayBuffer> = new Uint8ClampedArray(0);
  private busy = false;
  /** The frame on the canvas now. */
  lastFrame: Frame | undefined;
  videoMode = 'no machine';
  /** Called with every status the worker reports (once per animation frame). */
  onStatus: (status: MachineStatus, videoMode: string) => void = () => {};

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly api: Remote<MachineApi>,
  ) {
    this.context = canvas.getContext('2d', { alpha: false })!;
    const tick = () => {
      void this.update();
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  /** The picture's place inside the canvas element, in CSS pixels. */
  pictureRect(): Rect {
    const box = this.canvas.getBoundingClientRect();
    return containedRect(box.width, box.height, this.canvas.width, this.canvas.height);
  }

  private async update(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const info = await this.api.frame();
      if (info) await this.paint(info);
    } finally {
      this.busy = false;
    }
  }

  private async paint(info: FrameInfo): Promise<void> {
    const { display, status } = info;
    if (status.machineId !== this.machineId) {
      const memory = await this.api.videoMemory();
      if (!memory) return;
      this.vram = new Uint8Array(memory.buffer, memory.vramOffset, memory.vramBytes);
      this.machineId = status.machineId;
    }
    if (this.vram && this.policy.shouldRepaint(status.machineId, display, performance.now())) {
      const frame = renderFrame(display, this.vram, this.pixels);
      // The renderer allocated a bigger buffer (never shared memory): reuse it next time.
      if (frame.rgba.buffer !== this.pixels.buffer) this.pixels = new Uint8ClampedArray(frame.rgba.buffer as ArrayBuffer);
      if (this.canvas.width !== frame.width || this.canvas.height !== frame.height) {
        this.canvas.width = frame.width;
        this.canvas.height = frame.height;
      }
      // ImageData needs an array of exactly width*height*4 bytes that is not shared memory.
      this.context.putImageData(new ImageData(frame.rgba as Uint8ClampedArray<ArrayBuffer>, frame.width, frame.height), 0, 0);
      this.lastFrame = frame;
      this.videoMode = videoModeName(display, frame.width, frame.height);
    }
    this.onStatus(status, this.videoMode);
  }

  /** The canvas pixels as RGBA (what the user sees, before CSS scaling). */
  canvasPixels(): { width: number; height: number; rgba: Uint8ClampedArray } {
    const { width, height } = this.canvas;
    return { width, height, rgba: this.context.getImageData(0, 0, width, height).data };
  }

  async toggleFullscreen(): Promise<void> {
    if (document.fullscreenElement) await document.exitFullscreen();
    else await this.canvas.parentElement!.requestFullscreen();
  }
}
