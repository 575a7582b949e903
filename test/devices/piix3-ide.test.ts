import { describe, expect, it } from 'vitest';
import type { AccessRange, AccessSize } from '../../src/bus/access-range.ts';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { AtaDisk } from '../../src/devices/ata-disk.ts';
import { AtapiCdrom } from '../../src/devices/atapi-cdrom.ts';
import { IdeChannel } from '../../src/devices/ide-channel.ts';
import { Piix3Ide } from '../../src/devices/piix3-ide.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import { MemoryBackend } from '../../src/storage/memory-backend.ts';
import { TestMemory } from './test-memory.ts';

class Ram extends TestMemory {
  constructor() {
    super(1 << 20);
  }
}

const PRIMARY = 0x1f0;
const BM_STATUS = 2;
const BM_PRD = 4;

function setup() {
  const io = new IoBus();
  const clock = new EventClock();
  const ram = new Ram();
  const irq14 = new IrqLine('irq14');
  const irq15 = new IrqLine('irq15');
  const ide = new Piix3Ide({ memory: ram });
  const primary = new IdeChannel({ io, irq: irq14, basePort: 0x1f0, controlPort: 0x3f6, clock, busMaster: ide.busMaster(0) });
  const secondary = new IdeChannel({ io, irq: irq15, basePort: 0x170, controlPort: 0x376, clock, busMaster: ide.busMaster(1) });
  const image = new Uint8Array(512 * 512).map((_, i) => ((i >> 9) * 3 + i) & 0xff);
  const disk = new AtaDisk({ backend: new MemoryBackend(image) });
  primary.attach(0, disk);
  const bar = ide.info.bars![4]!;
  const range = bar.range as AccessRange;
  const bm = {
    read: (offset: number, size: AccessSize = 1) => range.read!(offset, size),
    write: (offset: number, value: number, size: AccessSize = 1) => range.write!(offset, size, value),
  };
  /** Write a PRD table at `at`: [address, byteCount (0 = 64 KiB)] pairs, EOT on the last. */
  const prd = (at: number, entries: [number, number][]) => {
    entries.forEach(([address, count], i) => {
      ram.writeU32(at + 8 * i, address);
      ram.writeU32(at + 8 * i + 4, (count & 0xffff) | (i === entries.length - 1 ? 0x80000000 : 0));
    });
    bm.write(BM_PRD, at, 4);
  };
  const ata = (command: number, lba: number, count: number) => {
    io.write(PRIMARY + 2, 1, count);
    io.write(PRIMARY + 3, 1, lba & 0xff);
    io.write(PRIMARY + 4, 1, (lba >> 8) & 0xff);
    io.write(PRIMARY + 5, 1, (lba >> 16) & 0xff);
    io.write(PRIMARY + 6, 1, 0xe0);
    io.write(PRIMARY + 7, 1, command);
  };
  const sector = (lba: number) => image.subarray(lba * 512, lba * 512 + 512);
  return { io, ram, ide, primary, secondary, irq14, irq15, disk, image, bm, prd, ata, sector };
}

describe('Piix3Ide', () => {
  it('is PCI function 8086:7010, IDE class in legacy mode, with a 16-byte I/O BAR4', () => {
    const { ide } = setup();
    expect(ide.info.vendorId).toBe(0x8086);
    expect(ide.info.deviceId).toBe(0x7010);
    expect(ide.info.classCode).toBe(0x010180);
    expect(ide.info.bars?.slice(0, 4).every((b) => b === undefined)).toBe(true);
    expect(ide.info.bars?.[4]?.kind).toBe('io');
    expect(ide.info.bars?.[4]?.size).toBe(16);
    expect(ide.config.length).toBe(256);
  });

  it('implements the bus-master register semantics', () => {
    const { bm } = setup();
    bm.write(BM_PRD, 0x12345677, 4);
    expect(bm.read(BM_PRD, 4)).toBe(0x12345674); // dword aligned
    bm.write(BM_PRD + 1, 0xab);
    expect(bm.read(BM_PRD, 4)).toBe(0x1234ab74);
    bm.write(BM_STATUS, 0xff);
    expect(bm.read(BM_STATUS)).toBe(0x60); // only the drive-capable bits are writable
    expect(bm.read(1)).toBe(0);
    expect(bm.read(3)).toBe(0);
    bm.write(0, 0xff);
    expect(bm.read(0)).toBe(0x09);
    expect(bm.read(BM_STATUS) & 1).toBe(1); // Start made it active
    bm.write(0, 0x00);
    expect(bm.read(BM_STATUS) & 1).toBe(0);
    expect(bm.read(0, 4)).toBe(0x00600000);
    expect(bm.read(8 + BM_PRD, 4)).toBe(0); // the secondary engine is separate
  });

  it('reads sectors by DMA into a two-region table that fits exactly', async () => {
    const t = setup();
    t.prd(0x1000, [
      [0x20000, 1024],
      [0x30000, 1024],
    ]);
    t.ata(0xc8, 10, 4);
    expect(t.io.read(0x3f6, 1) & 0x08).toBe(0x08); // DRQ while waiting for the engine
    t.bm.write(0, 0x09);
    await t.primary.whenIdle();
    expect(t.irq14.level).toBe(true);
    expect(t.bm.read(BM_STATUS) & 7).toBe(0x04); // interrupt, not active
    expect(t.ram.bytes.subarray(0x20000, 0x20200)).toEqual(t.sector(10));
    expect(t.ram.bytes.subarray(0x30200, 0x30400)).toEqual(t.sector(13));
    expect(t.io.read(PRIMARY + 7, 1)).toBe(0x50);
    t.bm.write(BM_STATUS, 0x04); // write one to clear
    expect(t.bm.read(BM_STATUS) & 4).toBe(0);
    t.bm.write(0, 0x00);
  });

  it('starts a transfer at once when Start was set before the command', async () => {
    const t = setup();
    t.prd(0x1000, [[0x20000, 512]]);
    t.bm.write(0, 0x09);
    // READ DMA EXT of one sector at LBA 7: high-order bytes first, then low-order ones.
    t.io.write(PRIMARY + 6, 1, 0x40);
    t.io.write(PRIMARY + 2, 1, 0);
    t.io.write(PRIMARY + 2, 1, 1);
    t.io.write(PRIMARY + 3, 1, 0);
    t.io.write(PRIMARY + 3, 1, 7);
    t.io.write(PRIMARY + 7, 1, 0x25);
    await t.primary.whenIdle();
    expect(t.ram.bytes.subarray(0x20000, 0x20200)).toEqual(t.sector(7));
    expect(t.bm.read(BM_STATUS) & 5).toBe(4);
  });

  it('leaves Active set when the table is longer than the transfer', async () => {
    const t = setup();
    t.prd(0x1000, [[0x20000, 4096]]);
    t.ata(0xc8, 0, 2);
    t.bm.write(0, 0x09);
    await t.primary.whenIdle();
    expect(t.irq14.level).toBe(true);
    expect(t.bm.read(BM_STATUS) & 7).toBe(0x05);
    expect(t.ram.bytes.subarray(0x20200, 0x20400)).toEqual(t.sector(1));
  });

  it('clears Active without an interrupt when the table is shorter than the transfer', async () => {
    const t = setup();
    t.prd(0x1000, [[0x20000, 512]]);
    t.ata(0xc8, 0, 4);
    t.bm.write(0, 0x09);
    await t.primary.whenIdle();
    expect(t.irq14.level).toBe(false);
    expect(t.bm.read(BM_STATUS) & 7).toBe(0);
    expect(t.ram.bytes.subarray(0x20000, 0x20200)).toEqual(t.sector(0));
    expect(t.io.read(PRIMARY + 7, 1) & 0x88).toBe(0); // neither busy nor DRQ
  });

  it('treats a byte count of 0 as 64 KiB', async () => {
    const t = setup();
    t.prd(0x1000, [[0x40000, 0]]);
    t.ata(0xc8, 100, 128);
    t.bm.write(0, 0x09);
    await t.primary.whenIdle();
    expect(t.bm.read(BM_STATUS) & 5).toBe(4);
    expect(t.ram.bytes.subarray(0x40000 + 127 * 512, 0x50000)).toEqual(t.sector(227));
  });

  it('writes sectors by DMA from guest memory', async () => {
    const t = setup();
    t.ram.bytes.fill(0xc3, 0x20000, 0x20400);
    t.prd(0x1000, [
      [0x20000, 512],
      [0x20200, 512],
    ]);
    t.ata(0xca, 50, 2);
    t.bm.write(0, 0x01);
    await t.primary.whenIdle();
    expect(t.irq14.level).toBe(true);
    expect(t.sector(50).every((b) => b === 0xc3)).toBe(true);
    expect(t.sector(51).every((b) => b === 0xc3)).toBe(true);
    expect(t.sector(52).every((b) => b === 0xc3)).toBe(false);
    expect(t.bm.read(BM_STATUS) & 5).toBe(4);
  });

  it('abandons the transfer when the guest clears Start', async () => {
    const t = setup();
    t.prd(0x1000, [[0x20000, 0]]);
    t.ata(0xc8, 0, 4);
    t.bm.write(0, 0x09);
    t.bm.write(0, 0x08);
    await t.primary.whenIdle();
    expect(t.irq14.level).toBe(false);
    expect(t.ram.bytes[0x20001]).toBe(0);
  });

  it('moves an ATAPI READ(10) reply by DMA', async () => {
    const t = setup();
    const discData = new Uint8Array(20 * 2048).map((_, i) => (i >> 11) + 1);
    const cd = new AtapiCdrom({ backend: new MemoryBackend(discData) });
    t.secondary.attach(0, cd);
    t.ram.writeU32(0x2000, 0x60000);
    t.ram.writeU32(0x2004, 0x80000000 | 4096);
    t.bm.write(8 + BM_PRD, 0x2000, 4);
    t.io.write(0x171, 1, 0x01); // DMA
    t.io.write(0x177, 1, 0xa0);
    const cdb = [0x28, 0, 0, 0, 0, 3, 0, 0, 2, 0, 0, 0];
    for (let i = 0; i < 12; i += 2) t.io.write(0x170, 2, cdb[i] | (cdb[i + 1] << 8));
    t.bm.write(8, 0x09);
    await t.secondary.whenIdle();
    expect(t.irq15.level).toBe(true);
    expect(t.io.read(0x172, 1) & 3).toBe(3);
    expect(t.io.read(0x177, 1)).toBe(0x50);
    expect(t.ram.bytes[0x60000]).toBe(4);
    expect(t.ram.bytes[0x60fff]).toBe(5);
    expect(t.bm.read(8 + BM_STATUS) & 5).toBe(4);
    expect(t.bm.read(BM_STATUS) & 4).toBe(0); // the primary engine saw nothing
  });

  it('sets the Interrupt bit for PIO command interrupts too', () => {
    const t = setup();
    t.io.write(PRIMARY + 7, 1, 0xe1); // IDLE IMMEDIATE
    expect(t.irq14.level).toBe(true);
    expect(t.bm.read(BM_STATUS) & 4).toBe(4);
  });

  it('cuts off a PRD table without an end after 512 descriptors', async () => {
    const t = setup();
    for (let i = 0; i < 600; i++) {
      t.ram.writeU32(0x8000 + 8 * i, 0x20000);
      t.ram.writeU32(0x8000 + 8 * i + 4, 2); // 2 bytes, no EOT
    }
    t.bm.write(BM_PRD, 0x8000, 4);
    t.ata(0xc8, 0, 4); // 2048 bytes: would need 1024 descriptors
    t.bm.write(0, 0x09);
    await t.primary.whenIdle();
    expect(t.bm.read(BM_STATUS) & 1).toBe(0);
    expect(t.irq14.level).toBe(false);
  });

  it('resets its registers and saves/restores them', () => {
    const t = setup();
    t.bm.write(BM_PRD, 0x4000, 4);
    t.bm.write(BM_STATUS, 0x20);
    t.ide.config[0x41] = 0x80;
    const saved = t.ide.saveState();
    const u = setup();
    u.ide.loadState(saved);
    expect(u.bm.read(BM_PRD, 4)).toBe(0x4000);
    expect(u.bm.read(BM_STATUS)).toBe(0x20);
    expect(u.ide.config[0x41]).toBe(0x80);
    u.ide.reset();
    expect(u.bm.read(BM_PRD, 4)).toBe(0);
    expect(u.ide.config[0x41]).toBe(0);
    expect(() => u.ide.loadState({ version: 3 })).toThrow(/version/);
  });
});
