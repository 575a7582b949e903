/**
 * Which parts of the picture must be rendered again, from the card's change report
 * (src/devices/vga-change-log.ts), the state the picture on screen was rendered from, and the
 * state now. Text modes give character cells (the cursor blink touches only the cursor cell),
 * VGA graphics and VBE planar modes give bands of whole lines. Linear-framebuffer modes are not
 * covered here: the card never sees those writes (see lfb-shadow.ts).
 * Pure code: no DOM, no Node APIs.
 */
import type { VgaChanges } from '../devices/vga-change-log.ts';
import type { VgaDisplayState } from '../devices/vga-display-state.ts';
import { fontBase, planeAddress, scanoutKind, textGeometry } from './vga-geometry.ts';
import { type ClipRect, frameSize, graphicsGeometry, graphicsLineSource, textBlinkPhases } from './vga-render.ts';

/** Everything, or a list of rectangles (possibly empty: nothing to do). */
export type DirtyRegions = { full: true } | { full: false; rects: ClipRect[] };

/** Font size in plane 2: 256 glyphs of 32 lines. */
const FONT_BYTES = 256 * 32;
/** More rectangles than this are painted as their bounding box. */
const MAX_RECTS = 32;

export const NOTHING: DirtyRegions = { full: false, rects: [] };
export const EVERYTHING: DirtyRegions = { full: true };

/**
 * What to render for `state`, given that the picture shows `painted` and the card reported
 * `changes` since then. `painted` undefined means nothing is on screen yet.
 */
export function dirtyRegions(painted: VgaDisplayState | undefined, state: VgaDisplayState, changes: VgaChanges, vram: Uint8Array): DirtyRegions {
  if (!painted || changes.all || changes.registers) return EVERYTHING;
  const kind = scanoutKind(state);
  if (kind !== scanoutKind(painted)) return EVERYTHING;
  const size = frameSize(state);
  const before = frameSize(painted);
  if (size.width !== before.width || size.height !== before.height) return EVERYTHING;
  switch (kind) {
    case 'text':
      return textRegions(painted, state, changes, vram, size);
    case 'graphics':
      return graphicsRegions(state, changes, vram, size);
    case 'vbe':
      return state.vbe.bpp === 4 ? planarVbeRegions(state, changes, vram, size) : NOTHING;
    default:
      return NOTHING;
  }
}

/** Plane offsets below this are looked up in a table (all the legacy modes can address). */
const TABLE_LIMIT = 0x10000;

/** The changed plane offsets of some planes, for quick membership tests. */
class ChangedOffsets {
  private readonly table = new Uint8Array(TABLE_LIMIT);
  /** Ranges beyond the table, as [start, end) pairs in ascending order. */
  private readonly high: number[] = [];

  constructor(changes: VgaChanges, planeMask: number) {
    const high: [number, number][] = [];
    for (let p = 0; p < 4; p++) {
      if (!(planeMask & (1 << p))) continue;
      const ranges = changes.planes[p];
      for (let i = 0; i < ranges.length; i += 2) {
        const [start, end] = [ranges[i], ranges[i + 1]];
        if (start < TABLE_LIMIT) this.table.fill(1, start, Math.min(end, TABLE_LIMIT));
        if (end > TABLE_LIMIT) high.push([Math.max(start, TABLE_LIMIT), end]);
      }
    }
    high.sort((a, b) => a[0] - b[0]);
    for (const [start, end] of high) this.high.push(start, end);
  }

  has(offset: number): boolean {
    if (offset < TABLE_LIMIT) return this.table[offset] === 1;
    const h = this.high;
    let lo = 0;
    let hi = h.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (h[2 * mid + 1] <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo < h.length / 2 && h[2 * lo] <= offset;
  }
}

/** The changed offsets of the planes in `planeMask`, or null when none changed. */
function changedBlocks(changes: VgaChanges, planeMask: number): ChangedOffsets | null {
  for (let p = 0; p < 4; p++) if (planeMask & (1 << p) && changes.planes[p].length) return new ChangedOffsets(changes, planeMask);
  return null;
}

function intersects(ranges: number[], start: number, end: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (ranges[i] < end && start < ranges[i + 1]) return true;
  return false;
}

// ---- Text ----------------------------------------------------------------------------------

function textRegions(painted: VgaDisplayState, state: VgaDisplayState, changes: VgaChanges, vram: Uint8Array, size: { width: number; height: number }): DirtyRegions {
  // A glyph changed: every cell showing it may have, so repaint all (fonts load once per mode).
  for (const selectA of [true, false]) {
    const font = fontBase(state.sequencer, selectA);
    if (intersects(changes.planes[2], font, font + FONT_BYTES)) return EVERYTHING;
  }
  const cells = changedBlocks(changes, 0x3);
  const crtc = state.crtc;
  const now = textBlinkPhases(state.timeNs);
  const then = textBlinkPhases(painted.timeNs);
  const cursorMoved = changes.cursor || now.cursorOn !== then.cursorOn;
  const cursorNow = (crtc[0x0e] << 8) | crtc[0x0f];
  const cursorThen = (painted.crtc[0x0e] << 8) | painted.crtc[0x0f];
  const blinkTurned = (state.attribute[0x10] & 0x08) !== 0 && now.blinkOn !== then.blinkOn;
  if (!cells && !cursorMoved && !blinkTurned) return NOTHING;

  const g = textGeometry(state);
  const planes = vram.length >> 2;
  const rects: ClipRect[] = [];
  for (let row = 0; row < g.rows && row * g.charHeight < size.height; row++) {
    let first = -1;
    let last = -1;
    for (let col = 0; col < g.columns && col * g.charWidth < size.width; col++) {
      const ma = (g.start + row * g.stride + col) & 0xffff;
      const address = planeAddress(crtc, ma, 0) % planes;
      const dirty =
        (cells !== null && cells.has(address)) ||
        (cursorMoved && (ma === cursorNow || ma === cursorThen)) ||
        (blinkTurned && (vram[(address << 2) | 1] & 0x80) !== 0);
      if (!dirty) continue;
      if (first < 0) first = col;
      last = col;
    }
    if (first < 0) continue;
    rects.push(clipToFrame({ x: first * g.charWidth, y: row * g.charHeight, width: (last - first + 1) * g.charWidth, height: g.charHeight }, size));
  }
  return limit(rects);
}

// ---- VGA graphics and VBE planar -----------------------------------------------------------

function graphicsRegions(state: VgaDisplayState, changes: VgaChanges, vram: Uint8Array, size: { width: number; height: number }): DirtyRegions {
  const blocks = changedBlocks(changes, 0xf);
  if (!blocks) return NOTHING;
  const g = graphicsGeometry(state);
  const crtc = state.crtc;
  const planes = vram.length >> 2;
  const clocks = Math.min(g.charClocks, Math.ceil(size.width / (g.mode256 ? 4 : 8)));
  // The same walk as the renderer: which plane offsets each output line reads.
  return bands(size, (y) => {
    const { lineStart, rowScan } = graphicsLineSource(crtc, g.linesPerOutput, y);
    for (let k = 0; k < clocks; k++) {
      const address = planeAddress(crtc, (lineStart + k) & 0xffff, rowScan) % planes;
      if (blocks.has(address)) return true;
    }
    return false;
  });
}

function planarVbeRegions(state: VgaDisplayState, changes: VgaChanges, vram: Uint8Array, size: { width: number; height: number }): DirtyRegions {
  const blocks = changedBlocks(changes, 0xf);
  if (!blocks) return NOTHING;
  const v = state.vbe;
  const planes = vram.length >> 2;
  return bands(size, (y) => {
    const first = (v.yOffset + y) * v.virtWidth + v.xOffset;
    const from = Math.floor(first / 8);
    const to = Math.floor((first + size.width - 1) / 8);
    for (let w = from; w <= to; w++) if (blocks.has(w % planes)) return true;
    return false;
  });
}

/** Full-width bands of consecutive output lines for which `lineChanged` holds. */
function bands(size: { width: number; height: number }, lineChanged: (y: number) => boolean): DirtyRegions {
  const rects: ClipRect[] = [];
  let from = -1;
  for (let y = 0; y <= size.height; y++) {
    const changed = y < size.height && lineChanged(y);
    if (changed && from < 0) from = y;
    if (!changed && from >= 0) {
      rects.push({ x: 0, y: from, width: size.width, height: y - from });
      from = -1;
    }
  }
  return limit(rects);
}

// ---- Rectangles ----------------------------------------------------------------------------

function clipToFrame(r: ClipRect, size: { width: number; height: number }): ClipRect {
  return { x: r.x, y: r.y, width: Math.min(r.width, size.width - r.x), height: Math.min(r.height, size.height - r.y) };
}

/** Too many small rectangles cost more in calls than they save: use their bounding box. */
export function limit(rects: ClipRect[]): DirtyRegions {
  if (rects.length <= MAX_RECTS) return { full: false, rects };
  return { full: false, rects: [boundingBox(rects)] };
}

export function boundingBox(rects: ClipRect[]): ClipRect {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const r of rects) {
    x0 = Math.min(x0, r.x);
    y0 = Math.min(y0, r.y);
    x1 = Math.max(x1, r.x + r.width);
    y1 = Math.max(y1, r.y + r.height);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Pixels the regions cover in a frame of `size` (for statistics). */
export function regionPixels(regions: DirtyRegions, size: { width: number; height: number }): number {
  if (regions.full) return size.width * size.height;
  return regions.rects.reduce((sum, r) => sum + r.width * r.height, 0);
}
