/**
 * How the VGA's CRT controller walks video memory, reduced to what a renderer needs: which mode
 * is on screen, its size, and the plane address of each character clock. Register meanings follow
 * the IBM VGA / FreeVGA CRTC descriptions. Pure functions over VgaDisplayState; no DOM, no Node.
 */
import type { VgaDisplayState } from '../devices/vga-display-state.ts';

export type ScanoutKind = 'blank' | 'text' | 'graphics' | 'vbe';

/** Blank when the attribute controller owns the palette (index bit 5 clear) or SR01 screen-off. */
export function scanoutKind(s: VgaDisplayState): ScanoutKind {
  if (s.vbe.enabled) return 'vbe';
  if (!(s.attributeIndex & 0x20) || s.sequencer[1] & 0x20) return 'blank';
  return s.graphics[6] & 0x01 ? 'graphics' : 'text';
}

/** Number of scan lines the CRTC displays (vertical display end + 1). */
export function displayedScanLines(crtc: Uint8Array): number {
  return crtc[0x12] + ((crtc[7] & 0x02) << 7) + ((crtc[7] & 0x40) << 3) + 1;
}

/** The line compare value (split screen): scan lines after it restart at address 0. */
export function lineCompare(crtc: Uint8Array): number {
  return crtc[0x18] + ((crtc[7] & 0x10) << 4) + ((crtc[9] & 0x40) << 3);
}

export function startAddress(crtc: Uint8Array): number {
  return (crtc[0x0c] << 8) | crtc[0x0d];
}

/** Memory address counter increment from one character row (or scan line) to the next. */
export function rowStride(crtc: Uint8Array): number {
  return crtc[0x13] * 2;
}

/**
 * Plane offset read for memory-address counter value `ma` on row scan `rowScan`: doubleword
 * mode (CR14 bit 6) shifts MA left by 2, word mode (CR17 bit 6 clear) by 1 with MA13 or MA15
 * rotated into bit 0 (CR17 bit 5), byte mode uses MA as is. CR17 bits 0 and 1 clear substitute
 * row scan bits 0 and 1 for address bits 13 and 14 (the CGA/Hercules interleaved banks).
 */
export function planeAddress(crtc: Uint8Array, ma: number, rowScan: number): number {
  let a: number;
  if (crtc[0x14] & 0x40) a = (ma << 2) | ((ma >> 14) & 3);
  else if (!(crtc[0x17] & 0x40)) a = (ma << 1) | ((ma >> (crtc[0x17] & 0x20 ? 15 : 13)) & 1);
  else a = ma;
  if (!(crtc[0x17] & 0x01)) a = (a & ~0x2000) | ((rowScan & 1) << 13);
  if (!(crtc[0x17] & 0x02)) a = (a & ~0x4000) | ((rowScan & 2) << 13);
  return a & 0xffff;
}

export interface TextGeometry {
  columns: number;
  rows: number;
  charWidth: 8 | 9;
  charHeight: number;
  start: number;
  stride: number;
}

export function textGeometry(s: VgaDisplayState): TextGeometry {
  const crtc = s.crtc;
  const columns = Math.max(1, Math.min(256, crtc[1] + 1));
  const charHeight = (crtc[9] & 0x1f) + 1;
  let lines = displayedScanLines(crtc);
  if (crtc[9] & 0x80) lines >>= 1;
  const rows = Math.max(1, Math.min(256, Math.floor(lines / charHeight)));
  return { columns, rows, charWidth: s.sequencer[1] & 0x01 ? 8 : 9, charHeight, start: startAddress(crtc), stride: rowStride(crtc) };
}

/** Plane-2 offset of the font selected by attribute bit 3 (`selectA`), from SR03. */
export function fontBase(sequencer: Uint8Array, selectA: boolean): number {
  const sr3 = sequencer[3];
  const map = selectA ? ((sr3 >> 2) & 3) | ((sr3 >> 3) & 4) : (sr3 & 3) | ((sr3 >> 2) & 4);
  return ((map & 3) << 14) | ((map & 4) << 11);
}

/** 6-bit DAC component to 8 bits (full scale 63 -> 255). */
function dacTo8(v: number, dac8bit: boolean): number {
  return dac8bit ? v & 0xff : ((v & 0x3f) << 2) | ((v & 0x3f) >> 4);
}

/** The 256 DAC entries as RGBA pixels packed for a little-endian Uint32Array view. */
export function dacPalette(s: VgaDisplayState): Uint32Array {
  const out = new Uint32Array(256);
  const p = s.palette;
  for (let i = 0; i < 256; i++) {
    const r = dacTo8(p[i * 3], s.dac8bit);
    const g = dacTo8(p[i * 3 + 1], s.dac8bit);
    const b = dacTo8(p[i * 3 + 2], s.dac8bit);
    out[i] = (0xff000000 | (b << 16) | (g << 8) | r) >>> 0;
  }
  return out;
}

/**
 * The 16 attribute-controller colours through the palette registers, P5-P4 / P7-P6 colour
 * select (AR10 bit 7, AR14), the DAC pixel mask and the DAC.
 */
export function attributePalette(s: VgaDisplayState, dac: Uint32Array): Uint32Array {
  const ar = s.attribute;
  const out = new Uint32Array(16);
  for (let i = 0; i < 16; i++) {
    let c = ar[i] & 0x3f;
    if (ar[0x10] & 0x80) c = (c & 0x0f) | ((ar[0x14] & 0x03) << 4);
    c |= (ar[0x14] & 0x0c) << 4;
    out[i] = dac[c & s.dacMask];
  }
  return out;
}
