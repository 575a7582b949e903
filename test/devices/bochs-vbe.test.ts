import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { MmioMap } from '../../src/bus/mmio-map.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import { StdVga } from '../../src/devices/vga.ts';

function setup() {
  const io = new IoBus();
  const mmio = new MmioMap();
  const vram = new Uint8Array(16 << 20);
  const vga = new StdVga({ io, mmio, clock: new EventClock(), vram });
  const write = (index: number, value: number) => {
    io.write(0x1ce, 2, index);
    io.write(0x1cf, 2, value);
  };
  const read = (index: number) => {
    io.write(0x1ce, 2, index);
    return io.read(0x1cf, 2);
  };
  return { io, mmio, vram, vga, write, read };
}

describe('Bochs VBE interface', () => {
  it('reports ID 0xB0C5 and reads back the IDs it supports', () => {
    const { write, read, io } = setup();
    expect(read(0)).toBe(0xb0c5);
    write(0, 0xb0c0);
    expect(read(0)).toBe(0xb0c0);
    write(0, 0xb0c6); // unsupported: ignored
    expect(read(0)).toBe(0xb0c0);
    write(0, 0xb0c5);
    expect(io.read(0x1d0, 2)).toBe(0xb0c5); // second data port
  });

  it('reports the video memory size in 64 KiB units', () => {
    const { read } = setup();
    expect(read(0x0a)).toBe(256);
  });

  it('reports maxima while GETCAPS is set', () => {
    const { write, read } = setup();
    write(1, 640);
    write(4, 0x02);
    expect(read(1)).toBe(16000);
    expect(read(2)).toBe(12000);
    expect(read(3)).toBe(32);
    write(4, 0x00);
    expect(read(1)).toBe(640);
  });

  it('sets a mode the way SeaVGABIOS does and shows it in displayState', () => {
    const { write, read, vga, vram } = setup();
    vram.fill(0x5a, 0, 800 * 600 * 4 + 16);
    write(3, 32);
    write(1, 800);
    write(2, 600);
    write(5, 0);
    write(4, 0x41); // enabled + LFB
    expect(read(4)).toBe(0x41);
    expect(read(6)).toBe(800);
    expect(read(7)).toBe(Math.floor((16 << 20) / 3200));
    const s = vga.displayState();
    expect(s.vbe).toEqual({ enabled: true, xres: 800, yres: 600, bpp: 32, virtWidth: 800, xOffset: 0, yOffset: 0 });
    expect(s.scanoutIsLinearFramebuffer).toBe(true);
    // The visible framebuffer is cleared, memory beyond it is not.
    expect(vram[0]).toBe(0);
    expect(vram[800 * 600 * 4 - 1]).toBe(0);
    expect(vram[800 * 600 * 4]).toBe(0x5a);
  });

  it('keeps memory with NOCLEARMEM', () => {
    const { write, vram } = setup();
    vram[10] = 7;
    write(3, 8);
    write(1, 320);
    write(2, 200);
    write(4, 0x81);
    expect(vram[10]).toBe(7);
  });

  it('fixes impossible modes when enabled: bad depth, unaligned or huge width', () => {
    const { write, read } = setup();
    write(3, 13);
    write(1, 803);
    write(2, 0);
    write(4, 0x01);
    expect(read(3)).toBe(8);
    expect(read(1)).toBe(800);
    expect(read(2)).toBe(1);
    write(2, 60000); // more lines than memory or the maximum allows
    expect(read(2)).toBe(12000);
    write(3, 32);
    write(1, 16000);
    write(2, 12000);
    expect(read(2)).toBe(Math.floor((16 << 20) / (16000 * 4)));
  });

  it('bounds virtual width and display offsets', () => {
    const { write, read } = setup();
    write(3, 16);
    write(1, 640);
    write(2, 480);
    write(4, 0x01);
    write(6, 1024);
    expect(read(6)).toBe(1024);
    write(8, 500);
    expect(read(8)).toBe(1024 - 640);
    write(9, 100);
    expect(read(9)).toBe(100);
    write(6, 100); // narrower than the screen
    expect(read(6)).toBe(640);
  });

  it('maps the 64 KiB bank window at 0xA0000 onto BANK * 64 KiB', () => {
    const { write, read, mmio, vram } = setup();
    write(3, 8);
    write(1, 640);
    write(2, 480);
    write(4, 0x01);
    write(5, 3);
    mmio.write(0xa0010, 1, 0x99);
    expect(vram[3 * 0x10000 + 0x10]).toBe(0x99);
    expect(mmio.read(0xa0010, 1)).toBe(0x99);
    expect(mmio.read(0xb0000, 1)).toBe(0xff);
    write(5, 0x1ff); // beyond the memory: masked to the banks that exist
    expect(read(5)).toBe(0xff);
  });

  it('switches the DAC to 8-bit components with ENABLE bit 5', () => {
    const { write, io, vga } = setup();
    write(4, 0x21);
    io.write(0x3c8, 1, 1);
    for (const c of [0xff, 0x80, 0x40]) io.write(0x3c9, 1, c);
    const s = vga.displayState();
    expect(s.dac8bit).toBe(true);
    expect([...s.palette.slice(3, 6)]).toEqual([0xff, 0x80, 0x40]);
    write(4, 0x01);
    io.write(0x3c8, 1, 2);
    for (const c of [0xff, 0x80, 0x40]) io.write(0x3c9, 1, c);
    expect([...vga.displayState().palette.slice(6, 9)]).toEqual([0x3f, 0x00, 0x00]);
  });

  it('ignores writes to read-only and unknown indexes', () => {
    const { write, read } = setup();
    write(0x0a, 5);
    expect(read(0x0a)).toBe(256);
    write(0x40, 5);
    expect(read(0x40)).toBe(0);
  });
});

describe('Bochs VBE port widths', () => {
  it('serves byte accesses from the low byte of the 16-bit registers', () => {
    const { io } = setup();
    io.write(0x1ce, 1, 0x01);
    io.write(0x1cf, 1, 0x80);
    io.write(0x1ce, 2, 0x01);
    expect(io.read(0x1cf, 2)).toBe(0x80);
    expect(io.read(0x1ce, 1)).toBe(0x01);
    io.write(0x1ce, 2, 0x00);
    expect(io.read(0x1cf, 1)).toBe(0xc5);
    expect(io.read(0x1d1, 1)).toBe(0xb0);
  });
});
