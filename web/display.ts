/**
 * The guest screen on a canvas. Each animation frame it asks the worker for the card's
 * registers and what changed on screen since the last look (small copies), and renders only the
 * regions RepaintPolicy names, straight out of the shared WebAssembly.Memory with the same
 * renderer the command-line screenshots use, uploading each with a dirty-rectangle
 * putImageData. The canvas has the mode's own size; CSS scales it with crisp pixels.
 */
import type { Remote } from 'comlink';
import type { FrameInfo, MachineApi, MachineStatus } from '../src/worker/machine-api.ts';
import { frameSize, renderFrame, type Frame } from '../src/display/vga-render.ts';
import { regionPixels } from '../src/display/dirty-regions.ts';
import { RepaintPolicy } from './repaint-policy.ts';
import { videoModeName } from './video-mode.ts';
import { containedRect, type Rect } from './display-geometry.ts';

export class Display {
  private readonly context: CanvasRenderingContext2D;
  private readonly policy = new RepaintPolicy();
  private vram: Uint8Array | undefined;
  private machineId = -1;
  /** The picture on the canvas (never shared memory: putImageData refuses that). */
  private image: ImageData | undefined;
  private busy = false;
  /** Totals since the page opened: frames looked at, paints made, pixels rendered and uploaded. */
  readonly paintStats = { frames: 0, paints: 0, pixels: 0 };
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
      const info = await this.api.frame(this.policy.since);
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
    if (this.vram) {
      this.paintStats.frames++;
      const regions = this.policy.plan(status.machineId, display, info.changes, this.vram);
      const { width, height } = frameSize(display);
      const image = this.image;
      if (regions.full || !image || image.width !== width || image.height !== height) {
        this.paintAll(display, this.vram, width, height);
      } else if (regions.rects.length) {
        for (const rect of regions.rects) {
          this.lastFrame = renderFrame(display, this.vram, image.data, rect);
          this.context.putImageData(image, 0, 0, rect.x, rect.y, rect.width, rect.height);
        }
        this.paintStats.paints++;
        this.paintStats.pixels += regionPixels(regions, { width, height });
      }
    }
    this.onStatus(status, this.videoMode);
  }

  private paintAll(display: FrameInfo['display'], vram: Uint8Array, width: number, height: number): void {
    if (!this.image || this.image.width !== width || this.image.height !== height) this.image = new ImageData(width, height);
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    const frame = renderFrame(display, vram, this.image.data);
    this.context.putImageData(this.image, 0, 0);
    this.lastFrame = frame;
    this.videoMode = videoModeName(display, width, height);
    this.paintStats.paints++;
    this.paintStats.pixels += width * height;
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
