// Golden-image tests for the VGA renderer: a real StdVga is programmed through its I/O ports and
// memory windows into a mode, drawn into, rendered, and compared pixel by pixel with a PNG under
// test/display/golden/. UPDATE_GOLDEN=1 rewrites the PNGs (inspect them before committing).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { IoBus } from '../../src/bus/io-bus.ts';
import type { MmioMap } from '../../src/bus/mmio-map.ts';
import { encodePng } from '../../src/display/png.ts';
import { renderFrame, type Frame } from '../../src/display/vga-render.ts';
import { decodePng } from './png-decode.ts';
import { MODE_03, MODE_12, MODE_13, loadFont, newCard, setDac, setMode } from './vga-modes.ts';

const GOLDEN_DIR = new URL('./golden/', import.meta.url);
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const FRAME_NS = 1e9 / 70;

function expectGolden(frame: Frame, name: string): void {
  const file = new URL(`${name}.png`, GOLDEN_DIR);
  if (UPDATE || !existsSync(file)) {
    if (!UPDATE) throw new Error(`golden image ${name}.png is missing: run with UPDATE_GOLDEN=1 and inspect it`);
    writeFileSync(file, encodePng(frame.width, frame.height, frame.rgba));
    return;
  }
  const golden = decodePng(new Uint8Array(readFileSync(file)));
  expect([frame.width, frame.height], `${name}: size`).toEqual([golden.width, golden.height]);
  let differing = 0;
  let first = '';
  for (let i = 0; i < golden.rgba.length; i += 4) {
    if (frame.rgba[i] !== golden.rgba[i] || frame.rgba[i + 1] !== golden.rgba[i + 1] || frame.rgba[i + 2] !== golden.rgba[i + 2] || frame.rgba[i + 3] !== golden.rgba[i + 3]) {
      if (differing++ === 0) {
        const p = i / 4;
        first = ` first at (${p % golden.width}, ${Math.floor(p / golden.width)}): got ${[...frame.rgba.subarray(i, i + 4)]} want ${[...golden.rgba.subarray(i, i + 4)]}`;
      }
    }
  }
  expect(differing, `${name}: pixels differing from the golden image;${first}`).toBe(0);
}

/** The 64-colour EGA palette in the DAC (what the VGA BIOS loads for the 16-colour modes). */
function loadEgaDac(io: IoBus): void {
  for (let i = 0; i < 64; i++) {
    const level = (primary: number, secondary: number) => ((i >> primary) & 1) * 42 + ((i >> secondary) & 1) * 21;
    setDac(io, i, level(2, 5), level(1, 4), level(0, 3));
  }
}

// A few 5x7 letters, drawn into 8x16 cells on rows 4-10 (enough to recognise the text).
const LETTERS: Record<string, string[]> = {
  W: ['X...X', 'X...X', 'X...X', 'X.X.X', 'X.X.X', 'XX.XX', 'X...X'],
  E: ['XXXXX', 'X....', 'X....', 'XXXX.', 'X....', 'X....', 'XXXXX'],
  B: ['XXXX.', 'X...X', 'X...X', 'XXXX.', 'X...X', 'X...X', 'XXXX.'],
  H: ['X...X', 'X...X', 'X...X', 'XXXXX', 'X...X', 'X...X', 'X...X'],
  V: ['X...X', 'X...X', 'X...X', 'X...X', 'X...X', '.X.X.', '..X..'],
  M: ['X...X', 'XX.XX', 'X.X.X', 'X.X.X', 'X...X', 'X...X', 'X...X'],
  T: ['XXXXX', '..X..', '..X..', '..X..', '..X..', '..X..', '..X..'],
  X: ['X...X', 'X...X', '.X.X.', '..X..', '.X.X.', 'X...X', 'X...X'],
};

function font(): Map<number, number[]> {
  const glyphs = new Map<number, number[]>();
  for (const [ch, rows] of Object.entries(LETTERS)) {
    const glyph = new Array<number>(16).fill(0);
    rows.forEach((row, i) => (glyph[4 + i] = [...row].reduce((bits, c, x) => bits | (c === 'X' ? 0x40 >> x : 0), 0)));
    glyphs.set(ch.charCodeAt(0), glyph);
  }
  glyphs.set(0xdb, new Array(16).fill(0xff)); // full block
  glyphs.set(0xc4, [0, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]); // line-graphics bar: 9th dot repeats
  glyphs.set(0xb1, Array.from({ length: 16 }, (_, i) => (i & 1 ? 0x55 : 0xaa))); // shade: 9th dot stays background
  return glyphs;
}

function writeText(mmio: MmioMap, row: number, col: number, text: string | number[], attr: number): void {
  const codes = typeof text === 'string' ? [...text].map((c) => c.charCodeAt(0)) : text;
  codes.forEach((code, i) => {
    const cell = 0xb8000 + (row * 80 + col + i) * 2;
    mmio.write(cell, 1, code);
    mmio.write(cell + 1, 1, attr);
  });
}

describe('VGA renderer golden images', () => {
  it('80x25 text: font from plane 2, attributes, line graphics, blink and cursor', () => {
    const { io, mmio, vga, vram, clock } = newCard();
    setMode(io, MODE_03);
    loadEgaDac(io);
    loadFont(io, mmio, font());
    writeText(mmio, 0, 0, 'WEBHVM TEXT', 0x1f); // white on blue
    for (let c = 0; c < 16; c++) writeText(mmio, 1, c * 2, [0xdb, 0xdb], c); // the 16 foreground colours
    for (let c = 0; c < 8; c++) writeText(mmio, 2, c * 2, 'HE', (c << 4) | 0x0f); // the 8 backgrounds
    writeText(mmio, 3, 0, new Array(20).fill(0xc4), 0x0e); // a continuous yellow line (9th dot)
    writeText(mmio, 3, 20, new Array(6).fill(0xb1), 0x0a); // shade with gaps at the 9th dot
    writeText(mmio, 4, 0, 'BXB', 0x8c); // blinking light red: hidden in the blink-off phase
    writeText(mmio, 4, 4, 'WEB', 0x0c); // the same colour, not blinking
    writeText(mmio, 24, 70, 'MTV', 0x4e); // yellow on red, the bottom row
    writeText(mmio, 2, 20, ' ', 0x0b); // the cursor's cell: the cursor takes its light cyan foreground
    io.write(0x3d4, 2, 0x0e0a); // cursor scan lines 14-15 ...
    io.write(0x3d4, 2, 0x0f0b);
    io.write(0x3d4, 2, 0x000e); // ... in cell 2*80 + 20 (row 2, column 20)
    io.write(0x3d4, 2, 0xb40f);
    clock.advanceTo(16 * FRAME_NS + 1); // cursor phase on, blink phase off
    const frame = renderFrame(vga.displayState(), vram);
    expect([frame.width, frame.height]).toEqual([720, 400]);
    expectGolden(frame, 'text-80x25');
  });

  it('mode 12h: 640x480 planar 16 colours drawn with set/reset and the bit mask', () => {
    const { io, mmio, vga, vram } = newCard();
    setMode(io, MODE_12);
    loadEgaDac(io);
    io.write(0x3ce, 2, 0x0f01); // enable set/reset on all planes
    for (let y = 0; y < 480; y++) {
      for (let byte = 0; byte < 80; byte++) {
        io.write(0x3ce, 2, ((byte / 5) & 15) << 8); // 16 bars of 40 pixels
        mmio.write(0xa0000 + y * 80 + byte, 1, 0);
      }
    }
    // A white diagonal, one pixel at a time: latch the byte (read), mask one bit, write.
    io.write(0x3ce, 2, 0x0f00);
    for (let y = 0; y < 480; y++) {
      const x = Math.floor((y * 639) / 479);
      io.write(0x3ce, 2, ((0x80 >> (x & 7)) << 8) | 0x08);
      const address = 0xa0000 + y * 80 + (x >> 3);
      mmio.read(address, 1);
      mmio.write(address, 1, 0);
    }
    io.write(0x3ce, 2, 0xff08);
    const frame = renderFrame(vga.displayState(), vram);
    expect([frame.width, frame.height]).toEqual([640, 480]);
    expectGolden(frame, 'mode-12h');
  });

  it('mode 13h: 320x200 chained 256 colours through the DAC', () => {
    const { io, mmio, vga, vram } = newCard();
    setMode(io, MODE_13);
    for (let i = 0; i < 256; i++) setDac(io, i, (i & 7) * 9, ((i >> 3) & 7) * 9, (i >> 6) * 21);
    for (let y = 0; y < 200; y++) {
      for (let x = 0; x < 320; x++) mmio.write(0xa0000 + y * 320 + x, 1, (x + (y >> 2) * 8) & 0xff);
    }
    const frame = renderFrame(vga.displayState(), vram);
    expect([frame.width, frame.height]).toEqual([320, 200]);
    expectGolden(frame, 'mode-13h');
  });

  /** Set a Bochs VBE mode through ports 0x1CE/0x1CF with the linear framebuffer enabled. */
  function vbeCard(bpp: number, xres: number, yres: number) {
    const card = newCard(16 << 20);
    const reg = (index: number, value: number) => {
      card.io.write(0x1ce, 2, index);
      card.io.write(0x1cf, 2, value);
    };
    reg(4, 0); // disable while changing the mode, as the VBE BIOS does
    reg(3, bpp);
    reg(1, xres);
    reg(2, yres);
    reg(4, 0x41); // enabled, linear framebuffer
    const bar = card.vga.pci.info.bars?.[0];
    if (bar?.kind !== 'memory' || !bar.range.write) throw new Error('the VGA has no linear framebuffer BAR');
    const write = bar.range.write;
    const lfb = { write: (offset: number, size: 1 | 2 | 4, value: number) => write(offset, size, value) };
    return { ...card, lfb };
  }

  it('VBE 160x120 at 32 bpp: blue-green-red-unused pixels written through BAR0', () => {
    const { vga, vram, lfb } = vbeCard(32, 160, 120);
    for (let y = 0; y < 120; y++) {
      for (let x = 0; x < 160; x++) {
        const r = Math.floor((x * 255) / 159);
        const g = Math.floor((y * 255) / 119);
        const b = ((x >> 4) + (y >> 4)) & 1 ? 0xc0 : 0x20;
        lfb.write((y * 160 + x) * 4, 4, ((0x5a << 24) | (r << 16) | (g << 8) | b) >>> 0); // byte 3 unused
      }
    }
    const frame = renderFrame(vga.displayState(), vram);
    expect([frame.width, frame.height]).toEqual([160, 120]);
    expectGolden(frame, 'vbe-32bpp');
  });

  it('VBE 160x120 at 16 bpp: RGB565 pixels written through BAR0', () => {
    const { vga, vram, lfb } = vbeCard(16, 160, 120);
    for (let y = 0; y < 120; y++) {
      for (let x = 0; x < 160; x++) {
        const r = Math.floor((x * 31) / 159);
        const g = Math.floor((y * 63) / 119);
        const b = y < 20 ? [31, 0, 15, 31][x >> 6 & 3] : (x ^ y) & 16 ? 31 : 0;
        lfb.write((y * 160 + x) * 2, 2, (r << 11) | (g << 5) | b);
      }
    }
    const frame = renderFrame(vga.displayState(), vram);
    expect([frame.width, frame.height]).toEqual([160, 120]);
    expectGolden(frame, 'vbe-16bpp');
  });
});
