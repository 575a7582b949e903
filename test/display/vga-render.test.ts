import { describe, expect, it } from 'vitest';
import { renderFrame } from '../../src/display/vga-render.ts';
import { MODE_03, MODE_12, MODE_13, loadFont, newCard, rgb6, setDac, setMode } from './vga-modes.ts';

const H = [0, 0, 0xc6, 0xc6, 0xc6, 0xc6, 0xfe, 0xc6, 0xc6, 0xc6, 0xc6, 0, 0, 0, 0, 0];
const I = [0, 0, 0x18, 0x18, 0, 0x38, 0x18, 0x18, 0x18, 0x18, 0x3c, 0, 0, 0, 0, 0];
const BAR = [0, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]; // 0xC4, a line-graphics character
const FRAME_NS = 1e9 / 70;

function pixel(f: { width: number; rgba: Uint8ClampedArray }, x: number, y: number): number[] {
  const i = (y * f.width + x) * 4;
  return [...f.rgba.subarray(i, i + 4)];
}

/** Mode 3 with "Hi" + a line-graphics bar in the first row, white on blue. */
function textScreen() {
  const card = newCard();
  const { io, mmio } = card;
  setMode(io, MODE_03);
  setDac(io, 0x01, 0, 0, 42);
  setDac(io, 0x3f, 63, 63, 63);
  setDac(io, 0x3e, 63, 63, 21);
  loadFont(io, mmio, new Map([[0x48, H], [0x69, I], [0xc4, BAR], [0x2d, BAR]]));
  const put = (cell: number, code: number, attr: number) => {
    mmio.write(0xb8000 + cell * 2, 1, code);
    mmio.write(0xb8001 + cell * 2, 1, attr);
  };
  put(0, 0x48, 0x1f);
  put(1, 0x69, 0x1f);
  put(2, 0xc4, 0x1f);
  put(3, 0x48, 0x1e); // yellow (colour 14 -> AR0E = 0x3E) on blue
  put(4, 0x2d, 0x1f); // the same bar glyph outside 0xC0-0xDF
  return { ...card, put };
}

function expectGlyph(f: { width: number; rgba: Uint8ClampedArray }, cell: number, glyph: number[], fg: number[], bg: number[], width = 9) {
  for (let line = 0; line < 16; line++) {
    for (let dot = 0; dot < 8; dot++) {
      const on = (glyph[line] >> (7 - dot)) & 1;
      expect(pixel(f, cell * width + dot, line), `cell ${cell} line ${line} dot ${dot}`).toEqual(on ? fg : bg);
    }
  }
}

describe('renderFrame: text modes', () => {
  it('draws 80x25 with 9-dot cells from the font in plane 2 and the attribute colours', () => {
    const { vga, vram, clock } = textScreen();
    clock.advanceTo(9 * FRAME_NS); // cursor off phase: the cursor (at cell 0) does not hide the glyph
    const f = renderFrame(vga.displayState(), vram);
    expect([f.width, f.height]).toEqual([720, 400]);
    const white = rgb6(63, 63, 63);
    const blue = rgb6(0, 0, 42);
    expectGlyph(f, 0, H, white, blue);
    expectGlyph(f, 1, I, white, blue);
    expectGlyph(f, 3, H, rgb6(63, 63, 21), blue);
    // The ninth column is background for ordinary characters...
    expect(pixel(f, 8, 6)).toEqual(blue);
    // ...and repeats the eighth for 0xC0-0xDF when line graphics are on (AR10 bit 2).
    expect(pixel(f, 2 * 9 + 8, 7)).toEqual(white);
    expect(pixel(f, 4 * 9 + 7, 7)).toEqual(white);
    expect(pixel(f, 4 * 9 + 8, 7)).toEqual(blue);
    // An untouched cell shows glyph 0 in colour 0: black.
    expect(pixel(f, 79 * 9, 399)).toEqual([0, 0, 0, 255]);
  });

  it('shows the cursor on the scan lines CR0A-CR0B of its cell, blinking', () => {
    const { vga, vram, io, clock } = textScreen();
    io.write(0x3d4, 2, 0x0d0a);
    io.write(0x3d4, 2, 0x0e0b);
    io.write(0x3d4, 2, 0x000e);
    io.write(0x3d4, 2, 0x010f); // cursor at cell 1
    const on = renderFrame(vga.displayState(), vram);
    expect(pixel(on, 9, 13)).toEqual(rgb6(63, 63, 63));
    expect(pixel(on, 9 + 8, 14)).toEqual(rgb6(63, 63, 63));
    expect(pixel(on, 9, 12)).toEqual(rgb6(0, 0, 42));
    expect(pixel(on, 9, 15)).toEqual(rgb6(0, 0, 42));
    clock.advanceTo(8 * FRAME_NS + 1);
    const off = renderFrame(vga.displayState(), vram);
    expect(pixel(off, 9, 13)).toEqual(rgb6(0, 0, 42));
    clock.advanceTo(16 * FRAME_NS + 1);
    io.write(0x3d4, 2, 0x2d0a); // cursor disabled by CR0A bit 5
    expect(pixel(renderFrame(vga.displayState(), vram), 9, 13)).toEqual(rgb6(0, 0, 42));
  });

  it('blinks characters with attribute bit 7 when AR10 bit 3 is set, else uses bright backgrounds', () => {
    const { vga, vram, io, put, clock } = textScreen();
    setDac(io, 0x39, 21, 21, 63); // colour 9 -> AR09 = 0x39
    put(0, 0x48, 0x9f);
    clock.advanceTo(9 * FRAME_NS); // cursor hidden, blink phase visible
    let f = renderFrame(vga.displayState(), vram);
    expect(pixel(f, 0, 2)).toEqual(rgb6(63, 63, 63));
    clock.advanceTo(17 * FRAME_NS);
    f = renderFrame(vga.displayState(), vram);
    expect(pixel(f, 0, 2)).toEqual(rgb6(0, 0, 42));
    io.read(0x3da, 1);
    io.write(0x3c0, 1, 0x30);
    io.write(0x3c0, 1, 0x04); // blink off: bit 7 is background intensity
    f = renderFrame(vga.displayState(), vram);
    expect(pixel(f, 0, 2)).toEqual(rgb6(63, 63, 63));
    expect(pixel(f, 0, 0)).toEqual(rgb6(21, 21, 63));
  });

  it('follows the CRTC: 40 columns, 8-dot characters, start address', () => {
    const { vga, vram, io, clock } = textScreen();
    clock.advanceTo(9 * FRAME_NS);
    io.write(0x3d4, 2, 0x0e11); // unprotect CR00-CR07 (the mode table protects them)
    io.write(0x3d4, 2, 0x2701); // 40 character clocks
    io.write(0x3d4, 2, 0x1413); // offset 20 words per row
    io.write(0x3c4, 2, 0x0101); // 8-dot clock
    io.write(0x3d4, 2, 0x020d); // start at cell 2
    const f = renderFrame(vga.displayState(), vram);
    expect([f.width, f.height]).toEqual([320, 400]);
    expect(pixel(f, 0, 7)).toEqual(rgb6(63, 63, 63)); // the bar is now the first cell
    expectGlyph(f, 1, H, rgb6(63, 63, 21), rgb6(0, 0, 42), 8);
  });

  it('selects font A or B by attribute bit 3 through SR03', () => {
    const { vga, vram, io, mmio, put, clock } = textScreen();
    clock.advanceTo(9 * FRAME_NS);
    loadFont(io, mmio, new Map([[0x48, I]]), 0x4000); // map 1
    io.write(0x3c4, 2, 0x0403); // map A = 1 (bits 3-2), map B = 0
    put(0, 0x48, 0x1f); // bit 3 set: font A (at 0x4000)
    put(1, 0x48, 0x17); // bit 3 clear: font B (at 0)
    setDac(io, 0x07, 42, 42, 42);
    const f = renderFrame(vga.displayState(), vram);
    expectGlyph(f, 0, I, rgb6(63, 63, 63), rgb6(0, 0, 42));
    expectGlyph(f, 1, H, rgb6(42, 42, 42), rgb6(0, 0, 42));
  });

  it('renders black while the attribute palette address source is off', () => {
    const { vga, vram, io } = textScreen();
    io.read(0x3da, 1);
    io.write(0x3c0, 1, 0x00);
    const f = renderFrame(vga.displayState(), vram);
    expect([f.width, f.height]).toEqual([720, 400]);
    expect(f.rgba.every((v, i) => (i % 4 === 3 ? v === 255 : v === 0))).toBe(true);
  });

  it('renders an unprogrammed card as a black 640x400 frame without throwing', () => {
    const { vga, vram } = newCard();
    const f = renderFrame(vga.displayState(), vram);
    expect([f.width, f.height]).toEqual([640, 400]);
  });
});

describe('renderFrame: VGA graphics modes', () => {
  it('mode 13h: chained 256 colours, 320x200, through the DAC', () => {
    const { vga, vram, io, mmio } = newCard();
    setMode(io, MODE_13);
    setDac(io, 0x42, 10, 20, 30);
    setDac(io, 0x07, 63, 0, 0);
    mmio.write(0xa0000 + 5 * 320 + 17, 1, 0x42);
    mmio.write(0xa0000 + 199 * 320 + 319, 1, 0x07);
    const f = renderFrame(vga.displayState(), vram);
    expect([f.width, f.height]).toEqual([320, 200]);
    expect(pixel(f, 17, 5)).toEqual(rgb6(10, 20, 30));
    expect(pixel(f, 16, 5)).toEqual([0, 0, 0, 255]);
    expect(pixel(f, 319, 199)).toEqual(rgb6(63, 0, 0));
    io.write(0x3c6, 1, 0x07); // DAC mask: 0x42 -> 0x02 (black)
    expect(pixel(renderFrame(vga.displayState(), vram), 17, 5)).toEqual([0, 0, 0, 255]);
  });

  it('mode X: unchained 256 colours, 320x240, one plane per pixel column mod 4', () => {
    const { vga, vram, io, mmio } = newCard();
    setMode(io, MODE_13);
    io.write(0x3c4, 2, 0x0604); // chain-4 off
    io.write(0x3d4, 2, 0x0014); // doubleword off
    io.write(0x3d4, 2, 0xe317); // byte mode
    // 480 displayed lines (the usual mode X vertical timing, reduced to what the renderer uses).
    io.write(0x3d4, 2, 0xdf12);
    io.write(0x3d4, 2, 0x3e07);
    setDac(io, 0x10, 0, 63, 0);
    const x = 6; // plane 2, address y*80 + 1
    const y = 230;
    io.write(0x3c4, 2, ((1 << (x & 3)) << 8) | 0x02);
    mmio.write(0xa0000 + y * 80 + (x >> 2), 1, 0x10);
    const f = renderFrame(vga.displayState(), vram);
    expect([f.width, f.height]).toEqual([320, 240]);
    expect(pixel(f, x, y)).toEqual(rgb6(0, 63, 0));
    expect(pixel(f, x - 1, y)).toEqual([0, 0, 0, 255]);
    expect(pixel(f, x + 1, y)).toEqual([0, 0, 0, 255]);
  });

  it('mode 12h: 640x480 16 colours, pixels set with write mode 2 through the attribute palette', () => {
    const { vga, vram, io, mmio } = newCard();
    setMode(io, MODE_12);
    setDac(io, 0x14, 42, 21, 0); // colour 6 -> AR06 = 0x14
    const plot = (x: number, y: number, colour: number) => {
      io.write(0x3ce, 2, 0x0205);
      io.write(0x3ce, 2, ((0x80 >> (x & 7)) << 8) | 0x08);
      const a = 0xa0000 + y * 80 + (x >> 3);
      mmio.read(a, 1);
      mmio.write(a, 1, colour);
    };
    plot(10, 5, 6);
    plot(11, 5, 6);
    plot(639, 479, 6);
    const f = renderFrame(vga.displayState(), vram);
    expect([f.width, f.height]).toEqual([640, 480]);
    expect(pixel(f, 10, 5)).toEqual(rgb6(42, 21, 0));
    expect(pixel(f, 11, 5)).toEqual(rgb6(42, 21, 0));
    expect(pixel(f, 12, 5)).toEqual([0, 0, 0, 255]);
    expect(pixel(f, 639, 479)).toEqual(rgb6(42, 21, 0));
    // Colour plane enable masks planes out: colour 6 without plane 2 is colour 2 (AR02 = 2).
    setDac(io, 0x02, 0, 42, 0);
    io.read(0x3da, 1);
    io.write(0x3c0, 1, 0x32);
    io.write(0x3c0, 1, 0x03);
    expect(pixel(renderFrame(vga.displayState(), vram), 10, 5)).toEqual(rgb6(0, 42, 0));
  });

  it('CGA mode 4 layout: interleaved 2-bit pixels, odd lines from the 0x2000 bank', () => {
    const { vga, vram, io, mmio } = newCard();
    setMode(io, {
      misc: 0x63,
      sequencer: [0x09, 0x03, 0x00, 0x02],
      crtc: [0x2d, 0x27, 0x28, 0x90, 0x2b, 0x80, 0xbf, 0x1f, 0x00, 0xc1, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x14, 0x00, 0x96, 0xb9, 0xa2, 0xff],
      graphics: [0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0f, 0x0f, 0xff],
      attribute: [0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00, 0x00],
    });
    setDac(io, 0x13, 0, 42, 42); // colour 1 -> AR01 = 0x13
    setDac(io, 0x17, 42, 42, 42); // colour 3 -> AR03 = 0x17
    mmio.write(0xb8000, 1, 0b01000011); // line 0, pixels 0-3: 1, 0, 0, 3
    mmio.write(0xb8001, 1, 0b11000000); // pixels 4-7: 3, 0, 0, 0
    mmio.write(0xba000, 1, 0b00000001); // line 1, pixel 3: colour 1
    const f = renderFrame(vga.displayState(), vram);
    expect([f.width, f.height]).toEqual([320, 200]);
    expect(pixel(f, 0, 0)).toEqual(rgb6(0, 42, 42));
    expect(pixel(f, 1, 0)).toEqual([0, 0, 0, 255]);
    expect(pixel(f, 3, 0)).toEqual(rgb6(42, 42, 42));
    expect(pixel(f, 4, 0)).toEqual(rgb6(42, 42, 42));
    expect(pixel(f, 3, 1)).toEqual(rgb6(0, 42, 42));
    expect(pixel(f, 0, 1)).toEqual([0, 0, 0, 255]);
  });

  it('splits the screen at the line compare register', () => {
    const { vga, vram, io, mmio } = newCard();
    setMode(io, MODE_12);
    io.write(0x3ce, 2, 0x0005);
    io.write(0x3c4, 2, 0x0f02);
    mmio.write(0xa0000, 1, 0xff); // first byte of the memory: top-left 8 pixels, colour 15
    io.write(0x3d4, 2, 0x500c); // start address 0x5000: the top part shows other memory
    io.write(0x3d4, 2, 0x6318); // line compare 99: bits 0-7...
    io.write(0x3d4, 2, 0x2e07); // ...bit 8 (CR07 bit 4, writable even while CR00-CR07 are protected)
    io.write(0x3d4, 2, 0x0009); // ...bit 9 (CR09 bit 6)
    setDac(io, 0x3f, 63, 63, 63);
    const f = renderFrame(vga.displayState(), vram);
    expect(pixel(f, 0, 0)).toEqual([0, 0, 0, 255]);
    expect(pixel(f, 0, 100)).toEqual(rgb6(63, 63, 63));
  });
});

describe('renderFrame: Bochs VBE', () => {
  function vbeMode(bpp: number, xres: number, yres: number) {
    const card = newCard(16 << 20);
    const w = (i: number, v: number) => {
      card.io.write(0x1ce, 2, i);
      card.io.write(0x1cf, 2, v);
    };
    w(3, bpp);
    w(1, xres);
    w(2, yres);
    w(4, 0x41);
    return { ...card, w };
  }

  it('scans a 32bpp frame from the start of video memory (golden 8x2 image)', () => {
    const { vga, vram } = vbeMode(32, 8, 2);
    const expected = new Uint8ClampedArray(8 * 2 * 4);
    for (let i = 0; i < 16; i++) {
      const [b, g, r] = [i * 16, 255 - i * 8, i * 3];
      vram.set([b, g, r, 0x99], i * 4);
      expected.set([r, g, b, 255], i * 4);
    }
    const f = renderFrame(vga.displayState(), vram);
    expect([f.width, f.height]).toEqual([8, 2]);
    expect(f.rgba).toEqual(expected);
  });

  it('pans with the virtual width and the X/Y offsets', () => {
    const { vga, vram, w } = vbeMode(32, 8, 2);
    w(6, 16); // virtual width 16
    w(8, 8); // x offset 8
    w(9, 1); // y offset 1
    const at = (x: number, y: number) => (y * 16 + x) * 4;
    vram.set([1, 2, 3, 0], at(8, 1));
    vram.set([4, 5, 6, 0], at(15, 2));
    const f = renderFrame(vga.displayState(), vram);
    expect(pixel(f, 0, 0)).toEqual([3, 2, 1, 255]);
    expect(pixel(f, 7, 1)).toEqual([6, 5, 4, 255]);
  });

  it('decodes 24, 16 and 15 bpp and uses the DAC for 8 bpp', () => {
    let card = vbeMode(24, 8, 1);
    card.vram.set([0x10, 0x20, 0x30, 0x40, 0x50, 0x60], 0);
    let f = renderFrame(card.vga.displayState(), card.vram);
    expect(pixel(f, 0, 0)).toEqual([0x30, 0x20, 0x10, 255]);
    expect(pixel(f, 1, 0)).toEqual([0x60, 0x50, 0x40, 255]);

    card = vbeMode(16, 8, 1);
    card.vram.set([0x00, 0xf8, 0xe0, 0x07, 0x1f, 0x00], 0); // red, green, blue in RGB565
    f = renderFrame(card.vga.displayState(), card.vram);
    expect(pixel(f, 0, 0)).toEqual([255, 0, 0, 255]);
    expect(pixel(f, 1, 0)).toEqual([0, 255, 0, 255]);
    expect(pixel(f, 2, 0)).toEqual([0, 0, 255, 255]);

    card = vbeMode(15, 8, 1);
    card.vram.set([0x00, 0x7c, 0xe0, 0x03, 0x10, 0x00], 0); // red, green, half blue in RGB555
    f = renderFrame(card.vga.displayState(), card.vram);
    expect(pixel(f, 0, 0)).toEqual([255, 0, 0, 255]);
    expect(pixel(f, 1, 0)).toEqual([0, 255, 0, 255]);
    expect(pixel(f, 2, 0)).toEqual([0, 0, 132, 255]);

    card = vbeMode(8, 8, 1);
    setDac(card.io, 5, 63, 32, 0);
    card.vram[3] = 5;
    f = renderFrame(card.vga.displayState(), card.vram);
    expect(pixel(f, 3, 0)).toEqual(rgb6(63, 32, 0));
    card.w(4, 0x61); // 8-bit DAC
    setDac(card.io, 5, 200, 100, 7);
    f = renderFrame(card.vga.displayState(), card.vram);
    expect(pixel(f, 3, 0)).toEqual([200, 100, 7, 255]);
  });

  it('renders from video memory that is not 4-byte aligned', () => {
    const { vga, vram, io, mmio } = newCard();
    setMode(io, MODE_13);
    setDac(io, 9, 63, 0, 63);
    mmio.write(0xa0000 + 321, 1, 9);
    const shifted = new Uint8Array(vram.length + 1);
    shifted.set(vram, 1);
    const f = renderFrame(vga.displayState(), shifted.subarray(1));
    expect(pixel(f, 1, 1)).toEqual(rgb6(63, 0, 63));
  });

  it('reuses a caller buffer that is large enough', () => {
    const { vga, vram } = vbeMode(32, 8, 2);
    const buffer = new Uint8ClampedArray(1024);
    const f = renderFrame(vga.displayState(), vram, buffer);
    expect(f.rgba.buffer).toBe(buffer.buffer);
    expect(f.rgba.length).toBe(64);
  });
});
