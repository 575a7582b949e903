/**
 * What changed on the VGA's screen since a viewer last looked: the card marks every video-memory
 * write it performs (per plane, in blocks of plane offsets), every register change that alters
 * the picture, and cursor register changes separately (they touch two character cells only).
 *
 * Viewers take turns without the card knowing them: each change is stamped with the current
 * epoch, and `changesSince(since)` reports everything stamped after `since`, then starts a new
 * epoch. A viewer passes back the epoch it was given. Epochs advance only when someone asks (at
 * most a few hundred times a second), so 32-bit stamps do not wrap in practice.
 *
 * Writes through a linear framebuffer mapped straight into guest memory never reach the card
 * (the CPU stores into shared memory); a viewer of such a mode compares the memory itself
 * (src/display/lfb-shadow.ts).
 */

/**
 * Blocks: the first 64 Ki plane offsets (all the legacy VGA modes can show) are tracked in pairs
 * of offsets, one text cell each; the rest (VBE bank-window writes) in blocks of 64 offsets.
 */
const FINE_LIMIT = 0x10000;
const FINE_SHIFT = 1;
const COARSE_SHIFT = 6;
const FINE_BLOCKS = FINE_LIMIT >> FINE_SHIFT;
/** Blocks per summary entry, which lets a query skip untouched memory quickly. */
const SUMMARY_SHIFT = 6;

function blockOf(offset: number): number {
  return offset < FINE_LIMIT ? offset >>> FINE_SHIFT : FINE_BLOCKS + ((offset - FINE_LIMIT) >>> COARSE_SHIFT);
}

function blockStart(block: number): number {
  return block < FINE_BLOCKS ? block << FINE_SHIFT : FINE_LIMIT + ((block - FINE_BLOCKS) << COARSE_SHIFT);
}

export interface VgaChanges {
  /** Pass this as `since` next time. */
  epoch: number;
  /** True when everything must be treated as changed (a viewer's first look, or `since` unknown). */
  all: boolean;
  /** A register that alters the picture changed (mode, palette, start address, fonts...). */
  registers: boolean;
  /** The cursor shape or position registers changed. */
  cursor: boolean;
  /**
   * Changed plane offsets per plane (0-3), as flat [start, end) pairs in ascending order, block
   * aligned (2 offsets below 64 Ki, 64 above). Byte `b` of video memory is plane `b & 3`, plane
   * offset `b >> 2`.
   */
  planes: [number[], number[], number[], number[]];
}

export class VgaChangeLog {
  private epoch = 1;
  private registersStamp = 1;
  private cursorStamp = 1;
  private readonly blocks: Uint32Array[];
  private readonly summary: Uint32Array[];
  readonly blockCount: number;

  /** `planeSize`: plane offsets the memory holds (a quarter of its bytes). */
  constructor(planeSize: number) {
    this.blockCount = blockOf(Math.max(planeSize, FINE_LIMIT + 1) - 1) + 1;
    const summaryCount = Math.ceil(this.blockCount / (1 << SUMMARY_SHIFT));
    this.blocks = [0, 1, 2, 3].map(() => new Uint32Array(this.blockCount));
    this.summary = [0, 1, 2, 3].map(() => new Uint32Array(summaryCount));
  }

  /** Planes `planeMask` (bit p = plane p) at plane offset `offset` were written. */
  markPlanes(offset: number, planeMask: number): void {
    const block = blockOf(offset);
    const summary = block >>> SUMMARY_SHIFT;
    const epoch = this.epoch;
    for (let p = 0; p < 4; p++) {
      if (!(planeMask & (1 << p))) continue;
      this.blocks[p][block] = epoch;
      this.summary[p][summary] = epoch;
    }
  }

  /** Bytes [start, end) of video memory were written as plain bytes (VBE bank window, BAR0). */
  markBytes(start: number, end: number): void {
    if (end - start <= 4 && (start >>> 2) === ((end - 1) >>> 2)) {
      let mask = 0;
      for (let b = start; b < end; b++) mask |= 1 << (b & 3);
      this.markPlanes(start >>> 2, mask);
      return;
    }
    const first = blockOf(start >>> 2);
    const last = blockOf((end - 1) >>> 2);
    for (let block = first; block <= last; block++) this.markPlanes(blockStart(block), 0x0f);
  }

  /** A register changed what the screen shows. */
  markRegisters(): void {
    this.registersStamp = this.epoch;
  }

  /** Cursor start/end or location changed. */
  markCursor(): void {
    this.cursorStamp = this.epoch;
  }

  /** Everything since `since` (0, or an epoch not from this log, reports `all`). */
  changesSince(since: number): VgaChanges {
    const now = this.epoch;
    const all = !(since > 0 && since <= now);
    const planes: VgaChanges['planes'] = [[], [], [], []];
    if (!all) {
      for (let p = 0; p < 4; p++) planes[p] = this.ranges(p, since);
    }
    this.epoch = now + 1;
    return {
      epoch: now + 1,
      all,
      registers: all || this.registersStamp >= since,
      cursor: all || this.cursorStamp >= since,
      planes,
    };
  }

  /** Blocks stamped `since` or later: `since` is the epoch that began right after the viewer's last look. */
  private ranges(plane: number, since: number): number[] {
    const out: number[] = [];
    const blocks = this.blocks[plane];
    const summary = this.summary[plane];
    const per = 1 << SUMMARY_SHIFT;
    for (let s = 0; s < summary.length; s++) {
      if (summary[s] < since) continue;
      const end = Math.min(blocks.length, (s + 1) * per);
      for (let b = s * per; b < end; b++) {
        if (blocks[b] < since) continue;
        const start = blockStart(b);
        const stop = blockStart(b + 1);
        if (out.length && out[out.length - 1] === start) out[out.length - 1] = stop;
        else out.push(start, stop);
      }
    }
    return out;
  }
}
