import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { MmioMap } from '../../src/bus/mmio-map.ts';
import { StateVersionError } from '../../src/bus/device.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import { StdVga } from '../../src/devices/vga.ts';

function setup(vramSize = 1 << 20) {
  const io = new IoBus();
  const mmio = new MmioMap();
  const clock = new EventClock();
  const vram = new Uint8Array(vramSize);
  const rom = new Uint8Array([0x55, 0xaa, 1]);
  const vga = new StdVga({ io, mmio, clock, vram, rom });
  return { io, mmio, clock, vram, vga };
}

describe('StdVga registers', () => {
  it('answers the CRTC at 0x3Dx or 0x3Bx according to Misc Output bit 0', () => {
    const { io } = setup();
    io.write(0x3c2, 1, 0x67);
    expect(io.read(0x3cc, 1)).toBe(0x67);
    io.write(0x3d4, 1, 0x0c);
    io.write(0x3d5, 1, 0x12);
    expect(io.read(0x3d5, 1)).toBe(0x12);
    expect(io.read(0x3b5, 1)).toBe(0xff);
    io.write(0x3b5, 1, 0x99); // not decoded in colour mode
    expect(io.read(0x3d5, 1)).toBe(0x12);
    io.write(0x3c2, 1, 0x66); // mono
    expect(io.read(0x3d5, 1)).toBe(0xff);
    io.write(0x3b4, 1, 0x0c);
    expect(io.read(0x3b5, 1)).toBe(0x12);
  });

  it('takes a word write to an index port as index then data', () => {
    const { io } = setup();
    io.write(0x3c2, 1, 0x67);
    io.write(0x3d4, 2, 0x340e);
    io.write(0x3c4, 2, 0x0f02);
    io.write(0x3ce, 2, 0xff08);
    expect(io.read(0x3d4, 1)).toBe(0x0e);
    expect(io.read(0x3d5, 1)).toBe(0x34);
    expect(io.read(0x3c5, 1)).toBe(0x0f);
    expect(io.read(0x3cf, 1)).toBe(0xff);
  });

  it('masks reserved sequencer and graphics bits and reads undefined indexes as all ones', () => {
    const { io } = setup();
    io.write(0x3c4, 2, 0xff04);
    expect(io.read(0x3c5, 1)).toBe(0x0e);
    io.write(0x3ce, 2, 0xff05);
    expect(io.read(0x3cf, 1)).toBe(0x7b);
    io.write(0x3ce, 1, 0x0c);
    expect(io.read(0x3cf, 1)).toBe(0xff);
    io.write(0x3cf, 1, 0x12); // ignored, no exception
  });

  it('alternates index and data on 0x3C0 and resets the flip-flop on an Input Status 1 read', () => {
    const { io } = setup();
    io.write(0x3c2, 1, 0x01);
    io.write(0x3c0, 1, 0x01); // index 1
    io.write(0x3c0, 1, 0x3f); // data
    io.write(0x3c0, 1, 0x22); // index 2, PAS set
    expect(io.read(0x3c0, 1)).toBe(0x22);
    io.write(0x3c0, 1, 0x15); // data to register 2
    io.write(0x3c0, 1, 0x01); // index 1 again
    expect(io.read(0x3c1, 1)).toBe(0x3f);
    // Flip-flop now expects data; reading 0x3DA makes the next write an index again.
    io.read(0x3da, 1);
    io.write(0x3c0, 1, 0x02);
    expect(io.read(0x3c1, 1)).toBe(0x15);
    expect(io.read(0x3c0, 1)).toBe(0x02);
  });

  it('masks palette registers to 6 bits', () => {
    const { io } = setup();
    io.read(0x3da, 1);
    io.write(0x3c0, 1, 0x05);
    io.write(0x3c0, 1, 0xff);
    expect(io.read(0x3c1, 1)).toBe(0x3f);
  });

  it('protects CR00-CR07 when CR11 bit 7 is set, except the line compare bit of CR07', () => {
    const { io } = setup();
    io.write(0x3c2, 1, 0x01);
    io.write(0x3d4, 2, 0x5f00);
    io.write(0x3d4, 2, 0x0007);
    io.write(0x3d4, 2, 0x8011); // protect on
    io.write(0x3d4, 2, 0x1200);
    io.write(0x3d4, 2, 0xff07);
    io.write(0x3d4, 1, 0x00);
    expect(io.read(0x3d5, 1)).toBe(0x5f);
    io.write(0x3d4, 1, 0x07);
    expect(io.read(0x3d5, 1)).toBe(0x10);
    io.write(0x3d4, 2, 0x0011); // protect off
    io.write(0x3d4, 2, 0x1200);
    io.write(0x3d4, 1, 0x00);
    expect(io.read(0x3d5, 1)).toBe(0x12);
  });

  it('auto-increments the DAC after three components, with separate read and write indexes', () => {
    const { io, vga } = setup();
    io.write(0x3c8, 1, 0x10);
    expect(io.read(0x3c7, 1)).toBe(0);
    for (const c of [0x3f, 0x20, 0xff, 0x01, 0x02, 0x03]) io.write(0x3c9, 1, c);
    expect(io.read(0x3c8, 1)).toBe(0x12);
    const p = vga.displayState().palette;
    expect([...p.slice(0x30, 0x36)]).toEqual([0x3f, 0x20, 0x3f, 1, 2, 3]);
    io.write(0x3c7, 1, 0x11);
    expect(io.read(0x3c7, 1)).toBe(3);
    expect([io.read(0x3c9, 1), io.read(0x3c9, 1), io.read(0x3c9, 1)]).toEqual([1, 2, 3]);
    // Next read continues at entry 0x12 (all zero).
    expect(io.read(0x3c9, 1)).toBe(0);
    io.write(0x3c6, 1, 0x0f);
    expect(io.read(0x3c6, 1)).toBe(0x0f);
  });

  it('does not store a DAC entry until its third component is written', () => {
    const { io, vga } = setup();
    io.write(0x3c8, 1, 0x00);
    io.write(0x3c9, 1, 0x11);
    io.write(0x3c9, 1, 0x12);
    expect(vga.displayState().palette[0]).toBe(0);
    io.write(0x3c9, 1, 0x13);
    expect([...vga.displayState().palette.slice(0, 3)]).toEqual([0x11, 0x12, 0x13]);
  });

  it('toggles the retrace bits of Input Status 1 with guest time', () => {
    const { io, clock } = setup();
    io.write(0x3c2, 1, 0x01);
    const seen = new Set<number>();
    let sawRetrace = false;
    let sawActive = false;
    for (let t = 0; t < 20_000_000; t += 5_000) {
      clock.advanceTo(t);
      const v = io.read(0x3da, 1);
      seen.add(v & 0x09);
      if (v & 0x08) sawRetrace = true;
      else if (!(v & 0x01)) sawActive = true;
    }
    expect(sawRetrace).toBe(true);
    expect(sawActive).toBe(true);
    expect(seen.has(0x09)).toBe(true);
  });

  it('lets a retrace polling loop finish even if the clock does not move', () => {
    const { io } = setup();
    io.write(0x3c2, 1, 0x01);
    let polls = 0;
    while (!(io.read(0x3da, 1) & 0x08) && polls < 100_000) polls++;
    expect(polls).toBeLessThan(100_000);
    while (io.read(0x3da, 1) & 0x08 && polls < 200_000) polls++;
    expect(polls).toBeLessThan(200_000);
  });

  it('reads unclaimed ports in the range as all ones', () => {
    const { io } = setup();
    expect(io.read(0x3cd, 1)).toBe(0xff);
    io.write(0x3cd, 1, 0x55);
  });
});

describe('StdVga legacy window decode', () => {
  function textMode(io: IoBus) {
    io.write(0x3c2, 1, 0x67);
    io.write(0x3c4, 2, 0x0302);
    io.write(0x3c4, 2, 0x0204);
    io.write(0x3ce, 2, 0x1005);
    io.write(0x3ce, 2, 0x0e06);
    io.write(0x3ce, 2, 0xff08);
  }

  it('maps only 0xB8000-0xBFFFF when GR06 selects map 3, in odd/even planes', () => {
    const { io, mmio, vram } = setup();
    textMode(io);
    mmio.write(0xb8000, 1, 0x41);
    mmio.write(0xb8001, 1, 0x1f);
    mmio.write(0xb8002, 1, 0x42);
    expect(vram[0]).toBe(0x41); // plane 0, offset 0
    expect(vram[1]).toBe(0x1f); // plane 1, offset 0
    expect(vram[2 * 4]).toBe(0x42); // plane 0, offset 2
    expect(mmio.read(0xb8000, 2)).toBe(0x1f41);
    expect(mmio.read(0xa0000, 1)).toBe(0xff);
    mmio.write(0xa0000, 1, 0x99);
    expect(vram.indexOf(0x99)).toBe(-1);
  });

  it('ignores the CPU while Misc Output RAM enable is clear', () => {
    const { io, mmio, vram } = setup();
    textMode(io);
    io.write(0x3c2, 1, 0x65);
    mmio.write(0xb8000, 1, 0x41);
    expect(vram[0]).toBe(0);
    expect(mmio.read(0xb8000, 1)).toBe(0xff);
  });

  it('decodes the 128 KiB, A0000 64 KiB and B0000 32 KiB maps', () => {
    const { io, mmio, vram } = setup();
    io.write(0x3c2, 1, 0x63);
    io.write(0x3c4, 2, 0x0f02);
    io.write(0x3c4, 2, 0x0e04); // chain-4
    io.write(0x3ce, 2, 0x0006); // map 0: A0000-BFFFF
    mmio.write(0xb0004, 1, 0x77);
    // Planes are 64 KiB: the upper half of the 128 KiB window aliases the lower half.
    expect(vram[4 * 4]).toBe(0x77);
    expect(mmio.read(0xa0004, 1)).toBe(0x77);
    io.write(0x3ce, 2, 0x0406); // map 1: A0000-AFFFF
    expect(mmio.read(0xa0004, 1)).toBe(0x77);
    expect(mmio.read(0xb0004, 1)).toBe(0xff);
    io.write(0x3ce, 2, 0x0806); // map 2: B0000-B7FFF
    expect(mmio.read(0xb0004, 1)).toBe(0x77);
    expect(mmio.read(0xb8000, 1)).toBe(0xff);
    expect(mmio.read(0xa0000, 1)).toBe(0xff);
  });
});

describe('StdVga PCI function', () => {
  it('identifies as 1234:1111 display controller with a 16 MiB framebuffer BAR and the ROM', () => {
    const { vga, vram } = setup(16 << 20);
    const info = vga.pci.info;
    expect(info.vendorId).toBe(0x1234);
    expect(info.deviceId).toBe(0x1111);
    expect(info.classCode).toBe(0x030000);
    const bar0 = info.bars?.[0];
    expect(bar0?.kind).toBe('memory');
    expect(bar0?.size).toBe(16 << 20);
    expect(bar0?.prefetchable).toBe(true);
    expect(bar0?.backing).toBe(vram);
    expect(info.bars?.[2]?.size).toBe(0x1000);
    expect(info.rom?.[0]).toBe(0x55);
    expect(vga.pci.config.length).toBe(256);
  });

  it('serves BAR0 through its handlers when not mapped directly', () => {
    const { vga, vram } = setup();
    const r = vga.pci.info.bars![0]!.range;
    r.write!(0x100, 4, 0x11223344);
    expect([...vram.slice(0x100, 0x104)]).toEqual([0x44, 0x33, 0x22, 0x11]);
    expect(r.read!(0x102, 2)).toBe(0x1122);
    expect(r.read!(vram.length, 1)).toBe(0xff);
  });

  it('exposes VGA ports and VBE registers in BAR2', () => {
    const { vga, io } = setup(16 << 20);
    const r = vga.pci.info.bars![2]!.range;
    r.write!(0x400 + 2, 1, 0x67); // Misc Output
    expect(io.read(0x3cc, 1)).toBe(0x67);
    r.write!(0x400 + 0x14, 2, 0x550c); // CRTC index 0x0C, data 0x55
    io.write(0x3d4, 1, 0x0c);
    expect(io.read(0x3d5, 1)).toBe(0x55);
    expect(r.read!(0x500, 2)).toBe(0xb0c5);
    expect(r.read!(0x500 + 2 * 0x0a, 2)).toBe(256);
    r.write!(0x500 + 2 * 1, 2, 800);
    io.write(0x1ce, 2, 1);
    expect(io.read(0x1cf, 2)).toBe(800);
    expect(r.read!(0x600, 4)).toBe(8);
    expect(r.read!(0x604, 4)).toBe(0x1e1e1e1e);
    expect(r.read!(0x000, 4)).toBe(0xffffffff); // no EDID
  });

  it('refuses video memory that is not a power of two', () => {
    expect(() => new StdVga({ io: new IoBus(), mmio: new MmioMap(), clock: new EventClock(), vram: new Uint8Array(3 << 18) })).toThrow(/power of two/);
  });
});

describe('StdVga state', () => {
  it('round-trips registers through saveState/loadState and refuses other versions', () => {
    const a = setup();
    a.io.write(0x3c2, 1, 0x67);
    a.io.write(0x3d4, 2, 0x200a);
    a.io.write(0x3c8, 1, 7);
    a.io.write(0x3c9, 1, 1);
    a.io.write(0x3c9, 1, 2);
    a.io.write(0x3c9, 1, 3);
    a.io.write(0x3c9, 1, 4); // partial entry 8
    a.io.write(0x1ce, 2, 1);
    a.io.write(0x1cf, 2, 640);
    const saved = a.vga.saveState();
    const b = setup();
    b.vga.loadState(structuredClone(saved));
    expect(b.io.read(0x3cc, 1)).toBe(0x67);
    expect(b.io.read(0x3d5, 1)).toBe(0x20);
    expect(b.vga.displayState().palette.slice(21, 24)).toEqual(new Uint8Array([1, 2, 3]));
    b.io.write(0x3c9, 1, 5);
    b.io.write(0x3c9, 1, 6);
    expect(b.vga.displayState().palette.slice(24, 27)).toEqual(new Uint8Array([4, 5, 6]));
    expect(b.io.read(0x1cf, 2)).toBe(640);
    // Input Status 1 continues identically after a restore (deterministic replays).
    for (let i = 0; i < 50; i++) a.io.read(0x3da, 1);
    const c = setup();
    c.vga.loadState(structuredClone(a.vga.saveState()));
    const seqA = Array.from({ length: 3000 }, () => a.io.read(0x3da, 1));
    const seqC = Array.from({ length: 3000 }, () => c.io.read(0x3da, 1));
    expect(seqC).toEqual(seqA);
    expect(new Set(seqA).size).toBeGreaterThan(1);
    expect(() => b.vga.loadState({ version: 2 })).toThrow(StateVersionError);
    expect(() => b.vga.loadState({ version: 1 })).toThrow(/sequencer/);
  });

  it('bumps the change counter on register and window writes', () => {
    const { io, mmio, vga } = setup();
    const g0 = vga.changeCounter;
    io.write(0x3c2, 1, 0x67);
    const g1 = vga.changeCounter;
    expect(g1).toBeGreaterThan(g0);
    io.write(0x3ce, 2, 0x0406);
    io.write(0x3c4, 2, 0x0f02);
    io.write(0x3c4, 2, 0x0604);
    const g2 = vga.changeCounter;
    mmio.write(0xa0000, 1, 1);
    expect(vga.changeCounter).toBeGreaterThan(g2);
    expect(vga.displayState().generation).toBe(vga.changeCounter);
  });
});
