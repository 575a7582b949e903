import { describe, expect, it } from 'vitest';
import { screenText } from '../../src/display/screen-text.ts';
import { MODE_03, MODE_13, newCard, setMode } from './vga-modes.ts';

function write(mmio: { write(a: number, s: 1, v: number): void }, cell: number, text: number[] | string) {
  const codes = typeof text === 'string' ? [...text].map((c) => c.charCodeAt(0)) : text;
  codes.forEach((c, i) => {
    mmio.write(0xb8000 + (cell + i) * 2, 1, c);
    mmio.write(0xb8001 + (cell + i) * 2, 1, 0x07);
  });
}

describe('screenText', () => {
  it('returns the 80x25 text screen as 25 lines with trailing spaces removed', () => {
    const { io, mmio, vga, vram } = newCard();
    setMode(io, MODE_03);
    write(mmio, 0, 'SeaBIOS (version 1.16)');
    write(mmio, 80 * 24 + 70, 'last line');
    write(mmio, 80 * 3, [0xc9, 0xcd, 0xbb, 0x20, 0x01, 0x9b, 0xe1, 0xfe, 0x00, 0x41]);
    const lines = screenText(vga.displayState(), vram)!;
    expect(lines).toHaveLength(25);
    expect(lines[0]).toBe('SeaBIOS (version 1.16)');
    expect(lines[1]).toBe('');
    expect(lines[3]).toBe('╔═╗ ☺¢ß■ A');
    expect(lines[24]).toBe(' '.repeat(70) + 'last line');
  });

  it('follows the start address and the number of rows and columns set in the CRTC', () => {
    const { io, mmio, vga, vram } = newCard();
    setMode(io, MODE_03);
    write(mmio, 80, 'second row');
    io.write(0x3d4, 2, 0x500d); // start at cell 80: scrolled by one row
    io.write(0x3d4, 2, 0x0709); // 8-line characters: 50 rows
    const lines = screenText(vga.displayState(), vram)!;
    expect(lines).toHaveLength(50);
    expect(lines[0]).toBe('second row');
  });

  it('returns null in graphics modes and while the screen is blanked', () => {
    const { io, vga, vram } = newCard();
    setMode(io, MODE_13);
    expect(screenText(vga.displayState(), vram)).toBeNull();
    setMode(io, MODE_03);
    expect(screenText(vga.displayState(), vram)).not.toBeNull();
    io.read(0x3da, 1);
    io.write(0x3c0, 1, 0x00);
    expect(screenText(vga.displayState(), vram)).toBeNull();
  });
});
