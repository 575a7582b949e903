import { describe, expect, it } from 'vitest';
import { StateVersionError } from '../../src/bus/device.ts';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import {
  FLOPPY_DRIVE_1440K,
  FLOPPY_DRIVE_2880K,
  FLOPPY_DRIVE_720K,
  FLOPPY_DRIVE_NONE,
  FloppyController,
  type FloppyMedia,
  floppyGeometry,
} from '../../src/devices/floppy-controller.ts';
import { IsaDma8237 } from '../../src/devices/isa-dma8237.ts';
import { TestMemory } from './test-memory.ts';

const K = 1024;
const SIZE_144 = 1474560;

class TestRam extends TestMemory {
  constructor() {
    super(1 << 20);
  }
}

/** An image whose every sector is filled with a byte derived from its LBA. */
class ImageMedia implements FloppyMedia {
  readonly bytes: Uint8Array;
  constructor(
    readonly size: number,
    readonly readOnly = false,
  ) {
    this.bytes = new Uint8Array(size);
    for (let lba = 0; lba < size / 512; lba++) {
      for (let i = 0; i < 512; i++) this.bytes[lba * 512 + i] = (lba * 7 + i) & 0xff;
    }
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.slice(offset, offset + length);
  }
  write(offset: number, data: Uint8Array): void {
    if (this.readOnly) throw new Error('write to read-only media');
    this.bytes.set(data, offset);
  }
  sector(lba: number): number[] {
    return Array.from(this.bytes.subarray(lba * 512, lba * 512 + 512));
  }
}

function setup(drives: ({ media?: FloppyMedia; type?: number } | undefined)[] = [{ media: new ImageMedia(SIZE_144) }]) {
  const io = new IoBus();
  const irq = new IrqLine('irq6');
  const ram = new TestRam();
  const dma = new IsaDma8237({ io, memory: ram });
  // BIOS POST: cascade channel 4 unmasked.
  io.write(0xd6, 1, 0xc0);
  io.write(0xd4, 1, 0x00);
  const fdc = new FloppyController({ io, irq, dma: dma.channel(2), drives: drives as { media?: FloppyMedia }[] });
  io.write(0x3f7, 1, 0); // 500 kb/s, the 1.44 MB rate
  io.write(0x3f2, 1, 0x1c); // motor A on, DMA/IRQ gate, running
  return { io, irq, ram, dma, fdc };
}

type Io = IoBus;

function command(io: Io, ...bytes: number[]): void {
  for (const b of bytes) {
    const msr = io.read(0x3f4, 1);
    expect(msr & 0xc0, `MSR ${msr.toString(16)} before command byte`).toBe(0x80);
    io.write(0x3f5, 1, b);
  }
}

function results(io: Io): number[] {
  const out: number[] = [];
  while ((io.read(0x3f4, 1) & 0xc0) === 0xc0 && out.length < 16) out.push(io.read(0x3f5, 1));
  return out;
}

/** Program ISA DMA channel 2 like SeaBIOS: single mode, no auto-init; `mode` 0x46 write, 0x4a read. */
function dmaChannel2(io: Io, address: number, bytes: number, mode: number, unmask = true): void {
  io.write(0x0a, 1, 0x06);
  io.write(0x0c, 1, 0);
  io.write(0x04, 1, address & 0xff);
  io.write(0x04, 1, (address >> 8) & 0xff);
  io.write(0x0c, 1, 0);
  io.write(0x05, 1, (bytes - 1) & 0xff);
  io.write(0x05, 1, ((bytes - 1) >> 8) & 0xff);
  io.write(0x0b, 1, mode);
  io.write(0x81, 1, address >> 16);
  if (unmask) io.write(0x0a, 1, 0x02);
}

function senseInterrupt(io: Io): number[] {
  command(io, 0x08);
  return results(io);
}

const lba144 = (c: number, h: number, r: number) => (c * 2 + h) * 18 + r - 1;

describe('FloppyController basics', () => {
  it('comes out of hardware reset running, idle, with the interrupt low', () => {
    const { io, irq } = setup();
    expect(io.read(0x3f2, 1)).toBe(0x1c);
    expect(io.read(0x3f4, 1)).toBe(0x80);
    expect(irq.level).toBe(false);
    expect(io.read(0x3f0, 1)).toBe(0xff);
    expect(io.read(0x3f6, 1)).toBe(0xff); // 0x3f6 belongs to the IDE controller
  });

  it('answers VERSION with 0x90 and an unknown opcode with ST0 0x80 and no interrupt', () => {
    const { io, irq } = setup();
    command(io, 0x10);
    expect(results(io)).toEqual([0x90]);
    command(io, 0x1f);
    expect(irq.level).toBe(false);
    expect(results(io)).toEqual([0x80]);
    expect(io.read(0x3f4, 1)).toBe(0x80);
    command(io, 0x08); // no interrupt pending: invalid
    expect(results(io)).toEqual([0x80]);
  });

  it('sets CB while a command is half written and ignores FIFO writes during results', () => {
    const { io } = setup();
    io.write(0x3f5, 1, 0x03);
    expect(io.read(0x3f4, 1)).toBe(0x90);
    io.write(0x3f5, 1, 0xaf);
    io.write(0x3f5, 1, 0x02);
    expect(io.read(0x3f4, 1)).toBe(0x80);
    command(io, 0x10);
    io.write(0x3f5, 1, 0x10);
    expect(results(io)).toEqual([0x90]);
  });

  it('interrupts after a DOR reset and answers four SENSE INTERRUPT STATUS', () => {
    const { io, irq } = setup();
    command(io, 0x0f, 0x00, 5);
    senseInterrupt(io);
    io.write(0x3f2, 1, 0x08);
    expect(io.read(0x3f4, 1)).toBe(0);
    expect(irq.level).toBe(false);
    io.write(0x3f2, 1, 0x0c);
    expect(irq.level).toBe(true);
    expect(senseInterrupt(io)).toEqual([0xc0, 5]);
    expect(irq.level).toBe(false);
    expect(senseInterrupt(io)).toEqual([0xc1, 0]);
    expect(senseInterrupt(io)).toEqual([0xc2, 0]);
    expect(senseInterrupt(io)).toEqual([0xc3, 0]);
    expect(senseInterrupt(io)).toEqual([0x80]);
  });

  it('gates the interrupt with the DOR DMA bit', () => {
    const { io, irq } = setup();
    io.write(0x3f2, 1, 0x00);
    io.write(0x3f2, 1, 0x04);
    expect(irq.level).toBe(false);
    io.write(0x3f2, 1, 0x0c);
    expect(irq.level).toBe(true);
  });

  it('resets through DSR bit 7 as well', () => {
    const { io, irq } = setup();
    io.write(0x3f4, 1, 0x80);
    expect(irq.level).toBe(true);
    expect(senseInterrupt(io)[0]).toBe(0xc0);
  });

  it('keeps SPECIFY, CONFIGURE, PERPENDICULAR and LOCK in DUMPREG; LOCK survives a soft reset', () => {
    const { io } = setup();
    command(io, 0x03, 0xaf, 0x02);
    command(io, 0x13, 0x00, 0x57, 0x09);
    command(io, 0x12, 0x86);
    command(io, 0x94);
    expect(results(io)).toEqual([0x10]);
    command(io, 0x0e);
    expect(results(io)).toEqual([0, 0, 0, 0, 0xaf, 0x02, 0, 0x80 | 0x06, 0x57, 0x09]);
    io.write(0x3f2, 1, 0x08);
    io.write(0x3f2, 1, 0x0c);
    // POLL disabled by CONFIGURE (bit 4): no reset interrupt; locked settings survive.
    command(io, 0x0e);
    expect(results(io)).toEqual([0, 0, 0, 0, 0xaf, 0x02, 0, 0x80 | 0x04, 0x57, 0x09]);
    command(io, 0x14);
    expect(results(io)).toEqual([0x00]);
    io.write(0x3f4, 1, 0x80);
    command(io, 0x0e);
    const regs = results(io);
    expect(regs[8]).toBe(0x20);
    expect(regs[9]).toBe(0);
  });
});

describe('FloppyController seeking', () => {
  it('seeks, recalibrates and reports the cylinder and track 0', () => {
    const { io, irq } = setup();
    command(io, 0x0f, 0x04, 10);
    expect(irq.level).toBe(true);
    expect(senseInterrupt(io)).toEqual([0x24, 10]);
    expect(irq.level).toBe(false);
    command(io, 0x04, 0x00);
    expect(results(io)).toEqual([0x28]);
    command(io, 0xcf, 0x00, 5); // relative seek inward
    expect(senseInterrupt(io)).toEqual([0x20, 15]);
    command(io, 0x8f, 0x00, 20); // relative seek outward, clamped at 0
    expect(senseInterrupt(io)).toEqual([0x20, 0]);
    command(io, 0x0f, 0x00, 3);
    senseInterrupt(io);
    command(io, 0x07, 0x00);
    expect(senseInterrupt(io)).toEqual([0x20, 0]);
    command(io, 0x04, 0x00);
    expect(results(io)).toEqual([0x38]);
  });

  it('reports equipment check when recalibrating a missing drive', () => {
    const { io } = setup();
    command(io, 0x07, 0x01);
    expect(senseInterrupt(io)).toEqual([0x71, 0]);
  });

  it('shows DSKCHG until a step with a disk in, and again after an eject', () => {
    const { io, fdc } = setup();
    expect(io.read(0x3f7, 1)).toBe(0x80);
    io.write(0x3f2, 1, 0x0c); // motor off: drive not selected
    expect(io.read(0x3f7, 1)).toBe(0x00);
    io.write(0x3f2, 1, 0x1c);
    command(io, 0x0f, 0x00, 1);
    senseInterrupt(io);
    expect(io.read(0x3f7, 1)).toBe(0x00);
    fdc.ejectMedia(0);
    expect(io.read(0x3f7, 1)).toBe(0x80);
    command(io, 0x0f, 0x00, 2); // no disk: the flag stays
    senseInterrupt(io);
    expect(io.read(0x3f7, 1)).toBe(0x80);
  });
});

describe('FloppyController data transfers', () => {
  it('reads sectors by DMA, stops at terminal count, and reports the next sector', () => {
    const media = new ImageMedia(SIZE_144);
    const s = setup([{ media }]);
    dmaChannel2(s.io, 0x12000, 1024, 0x46);
    command(s.io, 0xe6, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff);
    expect(s.irq.level).toBe(true);
    const res = results(s.io);
    expect(res).toEqual([0x00, 0x00, 0x00, 0, 0, 3, 2]);
    expect(s.irq.level).toBe(false);
    expect(Array.from(s.ram.bytes.subarray(0x12000, 0x12200))).toEqual(media.sector(0));
    expect(Array.from(s.ram.bytes.subarray(0x12200, 0x12400))).toEqual(media.sector(1));
    expect(s.ram.bytes[0x12400]).toBe(0);
    expect(s.io.read(0x08, 1) & 0x04).toBe(0x04); // DMA saw TC
  });

  it('continues on head 1 with MT, seeks implicitly, and sets SE', () => {
    const media = new ImageMedia(SIZE_144);
    const { io, ram } = setup([{ media }]);
    dmaChannel2(io, 0x20000, 1024, 0x46);
    command(io, 0xe6, 0x00, 1, 0, 18, 2, 18, 0x1b, 0xff);
    expect(results(io)).toEqual([0x24, 0x00, 0x00, 1, 1, 2, 2]);
    expect(Array.from(ram.bytes.subarray(0x20000, 0x20200))).toEqual(media.sector(lba144(1, 0, 18)));
    expect(Array.from(ram.bytes.subarray(0x20200, 0x20400))).toEqual(media.sector(lba144(1, 1, 1)));
    command(io, 0x04, 0x00);
    expect(results(io)[0] & 0x10).toBe(0); // no longer on track 0
  });

  it('ends with EN when EOT is reached before terminal count', () => {
    const media = new ImageMedia(SIZE_144);
    const { io, ram } = setup([{ media }]);
    dmaChannel2(io, 0x30000, 4096, 0x46);
    command(io, 0x66, 0x00, 0, 0, 17, 2, 18, 0x1b, 0xff); // no MT
    expect(results(io)).toEqual([0x40, 0x80, 0x00, 1, 0, 1, 2]);
    expect(Array.from(ram.bytes.subarray(0x30200, 0x30400))).toEqual(media.sector(17));
    expect(ram.bytes[0x30400]).toBe(0);
  });

  it('fails a sector beyond the track with ND and a wrong data rate with MA', () => {
    const { io } = setup();
    dmaChannel2(io, 0x30000, 512, 0x46);
    command(io, 0xe6, 0x00, 0, 0, 19, 2, 19, 0x1b, 0xff);
    expect(results(io).slice(0, 3)).toEqual([0x40, 0x04, 0x00]);
    io.write(0x3f7, 1, 0x02); // 250 kb/s: the 720K rate
    dmaChannel2(io, 0x30000, 512, 0x46);
    command(io, 0xe6, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff);
    expect(results(io).slice(0, 3)).toEqual([0x40, 0x01, 0x00]);
    command(io, 0x66 & 0xbf, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff); // FM read of an MFM disk
    io.write(0x3f7, 1, 0x00);
    expect(results(io).slice(0, 3)).toEqual([0x40, 0x01, 0x00]);
    command(io, 0xe6, 0x00, 0, 0, 1, 3, 18, 0x1b, 0xff); // 1024-byte sectors do not exist
    expect(results(io).slice(0, 3)).toEqual([0x40, 0x04, 0x00]);
  });

  it('ends at once with an error when there is no disk or no drive (a BIOS probe must not hang)', () => {
    const { io, irq } = setup([{}]);
    io.write(0x3f7, 1, 0x00);
    command(io, 0x4a, 0x00);
    expect(irq.level).toBe(true);
    expect(results(io)).toEqual([0x40, 0x01, 0x00, 0, 0, 1, 2]);
    dmaChannel2(io, 0x30000, 512, 0x46);
    command(io, 0xe6, 0x01, 0, 0, 1, 2, 18, 0x1b, 0xff);
    expect(results(io).slice(0, 2)).toEqual([0x41, 0x01]);
    expect(io.read(0x3f4, 1)).toBe(0x80);
  });

  it('writes sectors from memory by DMA and refuses read-only media with NW', () => {
    const media = new ImageMedia(SIZE_144);
    const { io, ram } = setup([{ media }]);
    for (let i = 0; i < 1024; i++) ram.bytes[0x40000 + i] = (0xa5 ^ i) & 0xff;
    dmaChannel2(io, 0x40000, 1024, 0x4a);
    command(io, 0xc5, 0x04, 2, 1, 5, 2, 18, 0x1b, 0xff);
    expect(results(io)).toEqual([0x24, 0x00, 0x00, 2, 1, 7, 2]);
    expect(media.sector(lba144(2, 1, 5))).toEqual(Array.from(ram.bytes.subarray(0x40000, 0x40200)));
    expect(media.sector(lba144(2, 1, 6))).toEqual(Array.from(ram.bytes.subarray(0x40200, 0x40400)));

    const ro = new ImageMedia(SIZE_144, true);
    const s = setup([{ media: ro }]);
    const before = ro.sector(0);
    dmaChannel2(s.io, 0x40000, 512, 0x4a);
    command(s.io, 0xc5, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff);
    expect(results(s.io).slice(0, 3)).toEqual([0x40, 0x02, 0x00]);
    expect(ro.sector(0)).toEqual(before);
    command(s.io, 0x04, 0x00);
    expect(results(s.io)[0] & 0x40).toBe(0x40);
  });

  it('pads a sector cut short by terminal count with zeros', () => {
    const media = new ImageMedia(SIZE_144);
    const { io, ram } = setup([{ media }]);
    ram.bytes.fill(0x77, 0x50000, 0x50100);
    dmaChannel2(io, 0x50000, 256, 0x4a);
    command(io, 0xc5, 0x00, 0, 0, 3, 2, 18, 0x1b, 0xff);
    expect(results(io)[0]).toBe(0x00);
    const sector = media.sector(2);
    expect(sector.slice(0, 256).every((b) => b === 0x77)).toBe(true);
    expect(sector.slice(256).every((b) => b === 0)).toBe(true);
  });

  it('waits in the execution phase until the DMA channel is unmasked', () => {
    const media = new ImageMedia(SIZE_144);
    const { io, irq, ram } = setup([{ media }]);
    dmaChannel2(io, 0x60000, 512, 0x46, false);
    command(io, 0xe6, 0x00, 0, 0, 4, 2, 18, 0x1b, 0xff);
    expect(io.read(0x3f4, 1)).toBe(0x10);
    expect(irq.level).toBe(false);
    expect(io.read(0x08, 1) & 0x40).toBe(0x40); // DREQ 2 pending
    io.write(0x0a, 1, 0x02);
    expect(irq.level).toBe(true);
    expect(results(io)).toEqual([0x00, 0x00, 0x00, 0, 0, 5, 2]);
    expect(Array.from(ram.bytes.subarray(0x60000, 0x60200))).toEqual(media.sector(3));
  });

  it('holds DMA requests back while the DOR gate is closed', () => {
    const media = new ImageMedia(SIZE_144);
    const { io, ram } = setup([{ media }]);
    io.write(0x3f2, 1, 0x14);
    dmaChannel2(io, 0x60000, 512, 0x46);
    command(io, 0xe6, 0x00, 0, 0, 1, 2, 18, 0x1b, 0xff);
    expect(io.read(0x3f4, 1)).toBe(0x10);
    expect(ram.bytes[0x60001]).toBe(0);
    io.write(0x3f2, 1, 0x1c);
    expect(results(io)[0]).toBe(0x00);
    expect(Array.from(ram.bytes.subarray(0x60000, 0x60200))).toEqual(media.sector(0));
  });

  it('reads the sector ID under the head', () => {
    const { io } = setup();
    command(io, 0x0f, 0x04, 7);
    senseInterrupt(io);
    command(io, 0x4a, 0x04);
    expect(results(io)).toEqual([0x04, 0x00, 0x00, 7, 1, 1, 2]);
    command(io, 0x0f, 0x00, 90);
    senseInterrupt(io);
    command(io, 0x4a, 0x00);
    expect(results(io).slice(0, 2)).toEqual([0x40, 0x01]); // past the last cylinder
  });

  it('formats a track from DMA-supplied IDs with the fill byte', () => {
    const media = new ImageMedia(SIZE_144);
    const { io, ram } = setup([{ media }]);
    command(io, 0x0f, 0x04, 3);
    senseInterrupt(io);
    for (let r = 1; r <= 18; r++) ram.bytes.set([3, 1, r, 2], 0x70000 + (r - 1) * 4);
    dmaChannel2(io, 0x70000, 72, 0x4a);
    command(io, 0x4d, 0x04, 2, 18, 0x6c, 0xf6);
    const res = results(io);
    expect(res.slice(0, 3)).toEqual([0x04, 0x00, 0x00]);
    for (let r = 1; r <= 18; r++) expect(media.sector(lba144(3, 1, r)).every((b) => b === 0xf6)).toBe(true);
    expect(media.sector(lba144(3, 0, 1)).every((b) => b === 0xf6)).toBe(false);
  });

  it('moves data through the FIFO in non-DMA mode and ends at EOT with EN', () => {
    const media = new ImageMedia(SIZE_144);
    const { io, irq } = setup([{ media }]);
    command(io, 0x03, 0xaf, 0x03); // ND = 1
    io.write(0x3f5, 1, 0x66);
    for (const b of [0x00, 0, 0, 1, 2, 2, 0x1b, 0xff]) io.write(0x3f5, 1, b);
    expect(io.read(0x3f4, 1)).toBe(0xf0);
    expect(irq.level).toBe(true);
    const got: number[] = [];
    while (io.read(0x3f4, 1) === 0xf0) got.push(io.read(0x3f5, 1));
    expect(got).toEqual([...media.sector(0), ...media.sector(1)]);
    expect(results(io)).toEqual([0x40, 0x80, 0x00, 1, 0, 1, 2]);

    io.write(0x3f5, 1, 0x45);
    for (const b of [0x00, 0, 0, 9, 2, 9, 0x1b, 0xff]) io.write(0x3f5, 1, b);
    expect(io.read(0x3f4, 1)).toBe(0xb0);
    for (let i = 0; i < 512; i++) io.write(0x3f5, 1, 0x3c);
    expect(results(io)).toEqual([0x40, 0x80, 0x00, 1, 0, 1, 2]);
    expect(media.sector(8).every((b) => b === 0x3c)).toBe(true);
  });
});

describe('FloppyController media and drives', () => {
  it('derives geometry and drive type from the image size', () => {
    expect(floppyGeometry(SIZE_144)).toMatchObject({ cylinders: 80, heads: 2, sectorsPerTrack: 18, rate: 0 });
    expect(floppyGeometry(720 * K)).toMatchObject({ sectorsPerTrack: 9, rate: 2 });
    expect(floppyGeometry(1200 * K)).toMatchObject({ sectorsPerTrack: 15, rate: 0 });
    expect(floppyGeometry(2880 * K)).toMatchObject({ sectorsPerTrack: 36, rate: 3 });
    expect(floppyGeometry(1000)).toBeUndefined();
    const { fdc } = setup([{ media: new ImageMedia(SIZE_144) }, { media: new ImageMedia(720 * K) }]);
    expect(fdc.driveType(0)).toBe(FLOPPY_DRIVE_1440K);
    expect(fdc.driveType(1)).toBe(FLOPPY_DRIVE_720K);
    expect(fdc.driveType(2)).toBe(FLOPPY_DRIVE_NONE);
    expect(setup([{}]).fdc.driveType()).toBe(FLOPPY_DRIVE_1440K);
    expect(setup([{ media: new ImageMedia(2880 * K) }]).fdc.driveType()).toBe(FLOPPY_DRIVE_2880K);
  });

  it('reads a 720K disk at 250 kb/s only, as the BIOS media sense expects', () => {
    const media = new ImageMedia(720 * K);
    const { io, ram } = setup([{ media }]);
    command(io, 0x4a, 0x00);
    expect(results(io)[0]).toBe(0x40);
    io.write(0x3f7, 1, 0x02);
    command(io, 0x4a, 0x00);
    expect(results(io)[0]).toBe(0x00);
    dmaChannel2(io, 0x10000, 512, 0x46);
    command(io, 0xe6, 0x04, 1, 1, 9, 2, 9, 0x1b, 0xff);
    // MT, last sector of side 1 at EOT: C+1, H complemented, R=1.
    expect(results(io)).toEqual([0x20, 0x00, 0x00, 2, 0, 1, 2]);
    expect(Array.from(ram.bytes.subarray(0x10000, 0x10200))).toEqual(media.sector((1 * 2 + 1) * 9 + 8));
  });

  it('refuses an image of no floppy size and a drive that does not exist', () => {
    const { fdc } = setup([{}]);
    expect(() => fdc.insertMedia(0, new ImageMedia(1000 * 512))).toThrow(/512000 bytes is no floppy format/);
    expect(() => fdc.insertMedia(1, new ImageMedia(SIZE_144))).toThrow(/no drive 1/);
    fdc.insertMedia(0, new ImageMedia(SIZE_144));
  });

  it('survives any garbage on its ports and recovers after a reset', () => {
    const { io, fdc, irq } = setup([{ media: new ImageMedia(SIZE_144) }, {}]);
    let x = 12345;
    const ports = [0x3f0, 0x3f1, 0x3f2, 0x3f3, 0x3f4, 0x3f5, 0x3f7, 0x3f5, 0x3f5, 0x3f5];
    for (let i = 0; i < 20000; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      const port = ports[(x >>> 8) % ports.length];
      if (x & 1) io.write(port, 1, x >>> 24);
      else io.read(port, 1);
    }
    fdc.reset();
    expect(irq.level).toBe(false);
    io.write(0x3f7, 1, 0);
    io.write(0x3f2, 1, 0x1c);
    command(io, 0x10);
    expect(results(io)).toEqual([0x90]);
  });
});

describe('FloppyController state', () => {
  it('restores a pending result phase and refuses other versions', () => {
    const { io, fdc, irq } = setup();
    command(io, 0x0f, 0x00, 12);
    command(io, 0x08);
    expect(io.read(0x3f5, 1)).toBe(0x20);
    const saved = fdc.saveState();
    fdc.reset();
    expect(io.read(0x3f4, 1)).toBe(0x80);
    fdc.loadState(structuredClone(saved));
    expect(io.read(0x3f4, 1)).toBe(0xd0);
    expect(io.read(0x3f5, 1)).toBe(12);
    expect(io.read(0x3f4, 1)).toBe(0x80);
    expect(irq.level).toBe(false);
    expect(() => fdc.loadState({ ...saved, version: 0 })).toThrow(StateVersionError);
  });
});
