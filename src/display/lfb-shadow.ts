/**
 * Change detection for VBE linear-framebuffer modes. The guest's CPU stores into the framebuffer
 * directly (it is shared memory mapped as RAM), so the card never sees those writes. A viewer
 * keeps a copy of the bytes its picture was rendered from and compares the visible lines with
 * video memory before each paint: exact (no hashing), and about one memory read per visible
 * byte, far cheaper than rendering and uploading the picture. Pure code: no DOM, no Node APIs.
 */
import type { VgaDisplayState } from '../devices/vga-display-state.ts';
import { type DirtyRegions, EVERYTHING, limit } from './dirty-regions.ts';
import type { ClipRect } from './vga-render.ts';

export class LfbShadow {
  private copy = new Uint8Array(0);
  private lineBytes = 0;
  private lines = 0;

  /** Forget the copy: the next `compare` reports everything (new mode, new machine). */
  invalidate(): void {
    this.lines = 0;
  }

  /**
   * The lines of `state`'s picture whose bytes differ from the copy (with the changed column
   * span), updating the copy to what video memory holds now. Call before rendering, so that a
   * write landing between this and the render is still different next time.
   * `all`: the caller repaints everything anyway; just take a fresh copy.
   */
  compare(state: VgaDisplayState, vram: Uint8Array, all: boolean): DirtyRegions {
    const v = state.vbe;
    const bytesPerPixel = (v.bpp + 7) >> 3;
    const lineBytes = v.xres * bytesPerPixel;
    const stride = v.virtWidth * bytesPerPixel;
    const lines = v.yres;
    const fresh = all || lineBytes !== this.lineBytes || lines !== this.lines;
    if (fresh) {
      this.lineBytes = lineBytes;
      this.lines = lines;
      if (this.copy.length !== lineBytes * lines) this.copy = new Uint8Array(lineBytes * lines);
    }
    const rects: ClipRect[] = [];
    let band: ClipRect | undefined;
    for (let y = 0; y < lines; y++) {
      const src = (v.yOffset + y) * stride + v.xOffset * bytesPerPixel;
      const at = y * lineBytes;
      // Lines past the end of video memory show black and never change.
      const span = src + lineBytes <= vram.length ? (fresh ? null : differingSpan(vram, src, this.copy, at, lineBytes)) : undefined;
      if (span !== undefined) this.copy.set(vram.subarray(src, src + lineBytes), at);
      if (!span) {
        band = undefined;
        continue;
      }
      const x0 = Math.floor(span[0] / bytesPerPixel);
      const x1 = Math.floor((span[1] - 1) / bytesPerPixel) + 1;
      if (band && band.y + band.height === y) {
        const left = Math.min(band.x, x0);
        const right = Math.max(band.x + band.width, x1);
        band.x = left;
        band.width = right - left;
        band.height++;
      } else {
        band = { x: x0, y, width: x1 - x0, height: 1 };
        rects.push(band);
      }
    }
    return fresh ? EVERYTHING : limit(rects);
  }
}

/** [first, last + 1) of the bytes that differ between a[aAt..] and b[bAt..] over `length`, or null. */
function differingSpan(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number, length: number): [number, number] | null {
  let first = 0;
  const aligned = (a.byteOffset + aAt) % 4 === 0 && (b.byteOffset + bAt) % 4 === 0;
  if (aligned) {
    const words = length >> 2;
    const wa = new Uint32Array(a.buffer, a.byteOffset + aAt, words);
    const wb = new Uint32Array(b.buffer, b.byteOffset + bAt, words);
    let i = 0;
    while (i < words && wa[i] === wb[i]) i++;
    first = i << 2;
  }
  while (first < length && a[aAt + first] === b[bAt + first]) first++;
  if (first === length) return null;
  let last = length - 1;
  while (last > first && a[aAt + last] === b[bAt + last]) last--;
  return [first, last + 1];
}
