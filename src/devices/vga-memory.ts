/**
 * The VGA memory sequencer and graphics controller data path: how a CPU byte access to the
 * legacy window reaches the four 8-bit planes. Follows the IBM VGA Technical Reference
 * (sequencer memory mode SR04, map mask SR02; graphics controller GR00-GR08) as described in the
 * FreeVGA register reference: read modes 0 and 1 (colour compare with colour don't care), write
 * modes 0-3 with set/reset, enable set/reset, data rotate, ALU function select and bit mask;
 * latches; chain-4 and odd/even addressing.
 *
 * Storage: plane `p` byte at plane offset `o` is `vram[o * 4 + p]` (see vga-display-state.ts).
 *
 * Simplifications: chain-4 writes store the CPU byte directly into the addressed plane (as QEMU
 * does) instead of passing through the set/reset/ALU/bit-mask logic; odd/even reads always use
 * read mode 0; in odd/even mode address bit 0 is replaced by 0 rather than by the Misc Output
 * page bit.
 */

const SR_MAP_MASK = 2;
const SR_MEMORY_MODE = 4;
const GR_SET_RESET = 0;
const GR_ENABLE_SET_RESET = 1;
const GR_COLOR_COMPARE = 2;
const GR_DATA_ROTATE = 3;
const GR_READ_MAP = 4;
const GR_MODE = 5;
const GR_COLOR_DONT_CARE = 7;
const GR_BIT_MASK = 8;

/** Four plane-enable bits expanded to a byte mask per plane: 0b0101 -> 0x00ff00ff. */
const EXPAND_PLANES = new Uint32Array(16);
for (let i = 0; i < 16; i++) {
  EXPAND_PLANES[i] = ((i & 1 ? 0xff : 0) | (i & 2 ? 0xff00 : 0) | (i & 4 ? 0xff0000 : 0) | (i & 8 ? 0xff000000 : 0)) >>> 0;
}

import type { VgaChangeLog } from './vga-change-log.ts';

export class VgaPlanarMemory {
  /** The four latches, plane p in byte p. */
  latch = 0;
  private readonly dwords: Uint32Array;
  /** Number of plane offsets the memory holds (a quarter of its size). */
  readonly planeSize: number;

  /** `changes`, when given, is told about every write that changes a byte. */
  constructor(
    private readonly vram: Uint8Array,
    private readonly changes?: VgaChangeLog,
  ) {
    if (vram.byteOffset % 4 !== 0 || vram.length % 4 !== 0) {
      throw new Error('VGA: video memory must be 4-byte aligned and a multiple of 4 bytes long');
    }
    this.dwords = new Uint32Array(vram.buffer, vram.byteOffset, vram.length / 4);
    this.planeSize = vram.length / 4;
  }

  /**
   * A CPU read at `address` (offset inside the decoded window, up to 0x1FFFF), with plane
   * offsets shifted by `planeBase` (non-zero only for banked VBE planar modes).
   */
  read(sr: Uint8Array, gr: Uint8Array, address: number, planeBase = 0): number {
    const mode = sr[SR_MEMORY_MODE];
    if (mode & 0x08) {
      // Chain-4: the two low address bits select the plane.
      const offset = this.planeOffset(address & 0xfffc, planeBase);
      this.latch = this.dwords[offset];
      return (this.latch >>> ((address & 3) * 8)) & 0xff;
    }
    if (gr[GR_MODE] & 0x10) {
      // Host odd/even read: address bit 0 picks plane 0/1 (or 2/3 with GR04 bit 1).
      const offset = this.planeOffset(address & 0xfffe, planeBase);
      this.latch = this.dwords[offset];
      const plane = (gr[GR_READ_MAP] & 2) | (address & 1);
      return (this.latch >>> (plane * 8)) & 0xff;
    }
    const offset = this.planeOffset(address & 0xffff, planeBase);
    const latch = (this.latch = this.dwords[offset]);
    if (!(gr[GR_MODE] & 0x08)) return (latch >>> ((gr[GR_READ_MAP] & 3) * 8)) & 0xff;
    // Read mode 1: a bit is 1 where every plane not marked "don't care" matches the colour.
    const care = EXPAND_PLANES[gr[GR_COLOR_DONT_CARE] & 0x0f];
    const color = EXPAND_PLANES[gr[GR_COLOR_COMPARE] & 0x0f];
    const differ = ((latch ^ color) & care) >>> 0;
    const any = (differ | (differ >>> 8) | (differ >>> 16) | (differ >>> 24)) & 0xff;
    return ~any & 0xff;
  }

  write(sr: Uint8Array, gr: Uint8Array, address: number, value: number, planeBase = 0): void {
    value &= 0xff;
    const memoryMode = sr[SR_MEMORY_MODE];
    const mapMask = sr[SR_MAP_MASK] & 0x0f;
    if (memoryMode & 0x08) {
      const plane = address & 3;
      if (mapMask & (1 << plane)) {
        const offset = this.planeOffset(address & 0xfffc, planeBase);
        if (this.vram[offset * 4 + plane] !== value) {
          this.vram[offset * 4 + plane] = value;
          this.changes?.markPlanes(offset, 1 << plane);
        }
      }
      return;
    }
    let planes: number;
    let offset: number;
    if (!(memoryMode & 0x04)) {
      // Odd/even: even addresses reach planes 0 and 2, odd addresses planes 1 and 3.
      planes = mapMask & (address & 1 ? 0x0a : 0x05);
      offset = this.planeOffset(address & 0xfffe, planeBase);
    } else {
      planes = mapMask;
      offset = this.planeOffset(address & 0xffff, planeBase);
    }
    if (!planes) return;

    const latch = this.latch;
    const rotate = gr[GR_DATA_ROTATE] & 7;
    const rotated = ((value >>> rotate) | (value << (8 - rotate))) & 0xff;
    let data: number;
    let bitMask = gr[GR_BIT_MASK];
    switch (gr[GR_MODE] & 3) {
      case 0: {
        const enable = EXPAND_PLANES[gr[GR_ENABLE_SET_RESET] & 0x0f];
        const setReset = EXPAND_PLANES[gr[GR_SET_RESET] & 0x0f];
        data = ((rotated * 0x01010101) & ~enable) | (setReset & enable);
        break;
      }
      case 1:
        // Write mode 1 copies the latches (a fast plane-to-plane copy); no ALU, no bit mask.
        data = latch;
        bitMask = 0xff;
        break;
      case 2:
        data = EXPAND_PLANES[value & 0x0f];
        break;
      default:
        data = EXPAND_PLANES[gr[GR_SET_RESET] & 0x0f];
        bitMask &= rotated;
        break;
    }
    if ((gr[GR_MODE] & 3) !== 1) {
      switch ((gr[GR_DATA_ROTATE] >> 3) & 3) {
        case 1:
          data &= latch;
          break;
        case 2:
          data |= latch;
          break;
        case 3:
          data ^= latch;
          break;
      }
    }
    const mask32 = bitMask * 0x01010101;
    const result = (data & mask32) | (latch & ~mask32);
    const planeMask = EXPAND_PLANES[planes];
    const old = this.dwords[offset];
    const next = ((old & ~planeMask) | (result & planeMask)) >>> 0;
    if (next === old) return;
    this.dwords[offset] = next;
    const diff = (old ^ next) >>> 0;
    this.changes?.markPlanes(offset, (diff & 0xff ? 1 : 0) | (diff & 0xff00 ? 2 : 0) | (diff & 0xff0000 ? 4 : 0) | (diff >>> 24 ? 8 : 0));
  }

  private planeOffset(offset: number, planeBase: number): number {
    return (planeBase + offset) % this.planeSize;
  }
}
