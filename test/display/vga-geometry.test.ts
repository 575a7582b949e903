import { describe, expect, it } from 'vitest';
import { displayedScanLines, fontBase, lineCompare, planeAddress } from '../../src/display/vga-geometry.ts';

function crtc(values: Record<number, number>): Uint8Array {
  const c = new Uint8Array(0x19);
  for (const [i, v] of Object.entries(values)) c[Number(i)] = v;
  return c;
}

describe('VGA CRTC geometry', () => {
  it('combines the overflow bits of vertical display end and line compare', () => {
    expect(displayedScanLines(crtc({ 0x12: 0xdf, 7: 0x02 }))).toBe(480);
    expect(displayedScanLines(crtc({ 0x12: 0x8f, 7: 0x40 }))).toBe(0x28f + 1);
    expect(lineCompare(crtc({ 0x18: 0xff, 7: 0x10, 9: 0x40 }))).toBe(0x3ff);
    expect(lineCompare(crtc({ 0x18: 0x10 }))).toBe(0x10);
  });

  it('maps the memory address counter in byte, word and doubleword mode', () => {
    expect(planeAddress(crtc({ 0x17: 0xe3 }), 0x1234, 0)).toBe(0x1234);
    expect(planeAddress(crtc({ 0x17: 0xa3 }), 0x1234, 0)).toBe(0x2468);
    expect(planeAddress(crtc({ 0x17: 0xa3 }), 0x8001, 0)).toBe(0x0003); // MA15 rotated into bit 0
    expect(planeAddress(crtc({ 0x17: 0x83 }), 0x2001, 0)).toBe(0x4003); // MA13 with CR17 bit 5 clear
    expect(planeAddress(crtc({ 0x14: 0x40, 0x17: 0xa3 }), 0x0105, 0)).toBe(0x0414);
  });

  it('substitutes row scan bits for address bits 13 and 14 in CGA compatible modes', () => {
    expect(planeAddress(crtc({ 0x17: 0xc2 }), 0x0010, 1)).toBe(0x2010);
    expect(planeAddress(crtc({ 0x17: 0xc2 }), 0x0010, 0)).toBe(0x0010);
    expect(planeAddress(crtc({ 0x17: 0xc0 }), 0x0010, 3)).toBe(0x6010);
  });

  it('locates fonts A and B from SR03', () => {
    const sr = new Uint8Array(5);
    expect(fontBase(sr, true)).toBe(0);
    sr[3] = 0x2d; // map A = 0b111 (bits 5,3,2), map B = 0b001 (bits 4,1,0)
    expect(fontBase(sr, true)).toBe(0xe000);
    expect(fontBase(sr, false)).toBe(0x4000);
    sr[3] = 0x10; // map B = 0b100
    expect(fontBase(sr, false)).toBe(0x2000);
  });
});
