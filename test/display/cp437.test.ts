import { describe, expect, it } from 'vitest';
import { CP437, cp437ToUnicode } from '../../src/display/cp437.ts';

describe('code page 437', () => {
  it('has one single-character entry per byte', () => {
    expect(CP437).toHaveLength(256);
    for (const ch of CP437) expect([...ch]).toHaveLength(1);
  });

  it('maps ASCII to itself and the graphic codes to their Unicode symbols', () => {
    for (let c = 0x20; c < 0x7f; c++) expect(cp437ToUnicode(c)).toBe(String.fromCharCode(c));
    expect(cp437ToUnicode(0x00)).toBe(' ');
    expect(cp437ToUnicode(0x01)).toBe('\u263a');
    expect(cp437ToUnicode(0x1f)).toBe('\u25bc');
    expect(cp437ToUnicode(0x7f)).toBe('\u2302');
    expect(cp437ToUnicode(0x80)).toBe('\u00c7');
    expect(cp437ToUnicode(0xb0)).toBe('\u2591');
    expect(cp437ToUnicode(0xc4)).toBe('\u2500');
    expect(cp437ToUnicode(0xdb)).toBe('\u2588');
    expect(cp437ToUnicode(0xe0)).toBe('\u03b1');
    expect(cp437ToUnicode(0xfe)).toBe('\u25a0');
    expect(cp437ToUnicode(0xff)).toBe('\u00a0');
    expect(cp437ToUnicode(0x1c4)).toBe('\u2500'); // only the low byte counts
  });
});
