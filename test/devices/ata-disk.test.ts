import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { AtaDisk } from '../../src/devices/ata-disk.ts';
import { IdeChannel } from '../../src/devices/ide-channel.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import type { BlockBackend } from '../../src/storage/block-backend.ts';
import { BlockRangeError } from '../../src/storage/block-backend.ts';
import { MemoryBackend } from '../../src/storage/memory-backend.ts';

const BASE = 0x1f0;
const CTRL = 0x3f6;

/** Every byte is a function of its offset, so any sector's contents are known; size may be huge. */
class PatternBackend implements BlockBackend {
  readonly readOnly = true;
  constructor(readonly size: number) {}
  static byteAt(offset: number): number {
    const sector = Math.floor(offset / 512);
    return (sector * 7 + (offset % 512) + Math.floor(sector / 65536)) & 0xff;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset + length > this.size) throw new BlockRangeError(offset, length, this.size);
    return new Uint8Array(length).map((_, i) => PatternBackend.byteAt(offset + i));
  }
  async write(): Promise<void> {
    throw new Error('read-only');
  }
  async flush(): Promise<void> {}
}

class FailingBackend extends MemoryBackend {
  flushed = 0;
  override async read(): Promise<Uint8Array> {
    throw new Error('I/O error');
  }
  override async flush(): Promise<void> {
    this.flushed++;
  }
}

function sectorPattern(lba: number): number[] {
  return Array.from({ length: 512 }, (_, i) => PatternBackend.byteAt(lba * 512 + i));
}

function setup(backend: BlockBackend) {
  const io = new IoBus();
  const irq = new IrqLine('irq14');
  const clock = new EventClock();
  const channel = new IdeChannel({ io, irq, basePort: BASE, controlPort: CTRL, clock });
  const disk = new AtaDisk({ backend });
  channel.attach(0, disk);
  const status = () => io.read(BASE + 7, 1);
  const error = () => io.read(BASE + 1, 1);
  const lba28 = (lba: number, count: number) => {
    io.write(BASE + 2, 1, count);
    io.write(BASE + 3, 1, lba & 0xff);
    io.write(BASE + 4, 1, (lba >> 8) & 0xff);
    io.write(BASE + 5, 1, (lba >> 16) & 0xff);
    io.write(BASE + 6, 1, 0xe0 | ((lba >> 24) & 0x0f));
  };
  const lba48 = (lba: number, count: number) => {
    const bytes = (v: number) => [0, 1, 2, 3, 4, 5].map((i) => Math.floor(v / 2 ** (8 * i)) & 0xff);
    const b = bytes(lba);
    io.write(BASE + 2, 1, count >> 8);
    io.write(BASE + 3, 1, b[3]);
    io.write(BASE + 4, 1, b[4]);
    io.write(BASE + 5, 1, b[5]);
    io.write(BASE + 2, 1, count & 0xff);
    io.write(BASE + 3, 1, b[0]);
    io.write(BASE + 4, 1, b[1]);
    io.write(BASE + 5, 1, b[2]);
    io.write(BASE + 6, 1, 0x40);
  };
  const command = (c: number) => io.write(BASE + 7, 1, c);
  const readBlock = (bytes: number): number[] => {
    const out: number[] = [];
    for (let i = 0; i < bytes; i += 2) {
      const w = io.read(BASE, 2);
      out.push(w & 0xff, w >> 8);
    }
    return out;
  };
  const writeBlock = (data: ArrayLike<number>) => {
    for (let i = 0; i < data.length; i += 2) io.write(BASE, 2, data[i] | (data[i + 1] << 8));
  };
  const identify = async (): Promise<Uint16Array> => {
    command(0xec);
    await channel.whenIdle();
    const bytes = readBlock(512);
    return Uint16Array.from({ length: 256 }, (_, i) => bytes[2 * i] | (bytes[2 * i + 1] << 8));
  };
  return { io, irq, clock, channel, disk, status, error, lba28, lba48, command, readBlock, writeBlock, identify };
}

function identifyString(w: Uint16Array, first: number, count: number): string {
  let s = '';
  for (let i = first; i < first + count; i++) s += String.fromCharCode(w[i] >> 8, w[i] & 0xff);
  return s.trimEnd();
}

describe('AtaDisk', () => {
  it('answers IDENTIFY DEVICE with QEMU strings, standard geometry and capacities', async () => {
    const t = setup(new MemoryBackend(new Uint8Array(20 * 1024 * 1024)));
    const w = await t.identify();
    expect(t.irq.level).toBe(true);
    expect(t.status()).toBe(0x50);
    expect(identifyString(w, 27, 20)).toBe('QEMU HARDDISK');
    expect(identifyString(w, 10, 10)).toBe('QM00001');
    expect(w[0]).toBe(0x0040);
    expect([w[1], w[3], w[6]]).toEqual([40, 16, 63]); // 40960 sectors / (16*63)
    expect(w[60] | (w[61] << 16)).toBe(40960);
    expect(w[100] + w[101] * 65536).toBe(40960);
    expect(w[83] & (1 << 10)).toBeTruthy(); // 48-bit supported
    expect(w[49] & 0x0300).toBe(0x0300); // LBA and DMA
    expect(w[63] & 0x07).toBe(0x07);
    expect(w[88] & 0xff).toBe(0x3f);
    expect(w[88] >> 8).toBe(0x20); // UDMA5 selected at power-on
    expect(w[93] & 0x2000).toBeTruthy(); // 80-conductor cable detected
    expect(w[47] & 0xff).toBe(16);
  });

  it('caps cylinders at 16383 and the 28-bit capacity at 0FFFFFFFh on a large disk', async () => {
    const t = setup(new PatternBackend(200 * 2 ** 30));
    const w = await t.identify();
    const sectors = (200 * 2 ** 30) / 512;
    expect(w[1]).toBe(16383);
    expect(w[60] | (w[61] << 16)).toBe(0x0fffffff);
    expect(w[100] + w[101] * 2 ** 16 + w[102] * 2 ** 32).toBe(sectors);
    expect(w[57] + w[58] * 65536).toBe(16383 * 16 * 63);
  });

  it('reads sectors by LBA with one interrupt per sector and no DRQ afterwards', async () => {
    const t = setup(new PatternBackend(1024 * 512));
    t.lba28(100, 2);
    t.command(0x20);
    expect(t.io.read(CTRL, 1) & 0x80).toBe(0x80); // busy while the media answers
    await t.channel.whenIdle();
    expect(t.irq.level).toBe(true);
    expect(t.status()).toBe(0x58);
    expect(t.irq.level).toBe(false);
    expect(t.readBlock(512)).toEqual(sectorPattern(100));
    expect(t.irq.level).toBe(true);
    expect(t.status()).toBe(0x58);
    expect(t.readBlock(512)).toEqual(sectorPattern(101));
    expect(t.status()).toBe(0x50);
    expect(t.irq.level).toBe(false);
    expect(t.io.read(BASE + 3, 1)).toBe(101); // address of the last sector read
  });

  it('reads 256 sectors when the count is 0, through 32-bit accesses', async () => {
    const t = setup(new PatternBackend(1024 * 512));
    t.lba28(0, 0);
    t.command(0x21);
    let last: number[] = [];
    for (let s = 0; s < 256; s++) {
      await t.channel.whenIdle();
      expect(t.status() & 0x08).toBe(0x08);
      last = [];
      for (let i = 0; i < 128; i++) {
        const v = t.io.read(BASE, 4);
        last.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
      }
    }
    expect(last).toEqual(sectorPattern(255));
    expect(t.status()).toBe(0x50);
  });

  it('addresses sectors by cylinder, head and sector', async () => {
    const t = setup(new PatternBackend(16 * 63 * 10 * 512));
    // C=2, H=3, S=5 -> (2*16+3)*63 + 4
    t.io.write(BASE + 2, 1, 1);
    t.io.write(BASE + 3, 1, 5);
    t.io.write(BASE + 4, 1, 2);
    t.io.write(BASE + 5, 1, 0);
    t.io.write(BASE + 6, 1, 0xa3);
    t.command(0x20);
    await t.channel.whenIdle();
    expect(t.readBlock(512)).toEqual(sectorPattern(35 * 63 + 4));
    // Sector 0 does not exist in CHS addressing.
    t.io.write(BASE + 3, 1, 0);
    t.command(0x20);
    expect(t.status()).toBe(0x41);
    expect(t.error()).toBe(0x10);
  });

  it('uses the geometry set by INITIALIZE DEVICE PARAMETERS for CHS', async () => {
    const t = setup(new PatternBackend(100000 * 512));
    t.io.write(BASE + 2, 1, 32);
    t.io.write(BASE + 6, 1, 0xa7); // 8 heads
    t.command(0x91);
    expect(t.status()).toBe(0x50);
    const w = await t.identify();
    expect([w[55], w[56]]).toEqual([8, 32]);
    expect(w[54]).toBe(Math.floor(100000 / 256));
    t.io.write(BASE + 2, 1, 1);
    t.io.write(BASE + 3, 1, 1);
    t.io.write(BASE + 4, 1, 1);
    t.io.write(BASE + 6, 1, 0xa0);
    t.command(0x20);
    await t.channel.whenIdle();
    expect(t.readBlock(512)).toEqual(sectorPattern(256)); // cylinder 1 = 8*32 sectors in
    t.io.write(BASE + 2, 1, 0);
    t.command(0x91);
    expect(t.status()).toBe(0x41);
    expect(t.error()).toBe(0x04);
  });

  it('reads beyond 28 bits with READ SECTORS EXT and reports HOB bytes', async () => {
    const t = setup(new PatternBackend(200 * 2 ** 30));
    const lba = 0x1234_5678; // above the 28-bit limit, inside the 200 GiB disk
    t.lba48(lba, 1);
    t.command(0x24);
    await t.channel.whenIdle();
    expect(t.readBlock(512)).toEqual(sectorPattern(lba));
    expect(t.status()).toBe(0x50);
    t.io.write(CTRL, 1, 0x80);
    expect(t.io.read(BASE + 3, 1)).toBe(0x12);
    t.io.write(CTRL, 1, 0x00);
    expect(t.io.read(BASE + 5, 1)).toBe(0x34);
  });

  it('fails a read past the end with IDNF and no data', async () => {
    const t = setup(new PatternBackend(100 * 512));
    t.lba28(99, 2);
    t.command(0x20);
    expect(t.irq.level).toBe(true);
    expect(t.status()).toBe(0x41);
    expect(t.error()).toBe(0x10);
    expect(t.io.read(BASE, 2)).toBe(0);
    t.lba48(2 ** 40, 1);
    t.command(0x24);
    expect(t.error()).toBe(0x10);
  });

  it('turns a media read failure into UNC', async () => {
    const t = setup(new FailingBackend(new Uint8Array(64 * 512)));
    t.lba28(3, 1);
    t.command(0x20);
    await t.channel.whenIdle();
    expect(t.irq.level).toBe(true);
    expect(t.status()).toBe(0x41);
    expect(t.error()).toBe(0x40);
  });

  it('writes sectors: first DRQ without an interrupt, one interrupt per block', async () => {
    const image = new Uint8Array(64 * 512);
    const t = setup(new MemoryBackend(image));
    t.lba28(5, 2);
    t.command(0x30);
    expect(t.irq.level).toBe(false);
    expect(t.io.read(CTRL, 1)).toBe(0x58);
    t.writeBlock(new Uint8Array(512).fill(0xaa));
    await t.channel.whenIdle();
    expect(t.irq.level).toBe(true);
    expect(t.status()).toBe(0x58);
    t.writeBlock(new Uint8Array(512).fill(0xbb));
    await t.channel.whenIdle();
    expect(t.irq.level).toBe(true);
    expect(t.status()).toBe(0x50);
    expect(image[5 * 512]).toBe(0xaa);
    expect(image[6 * 512 + 511]).toBe(0xbb);
    expect(image[7 * 512]).toBe(0);
  });

  it('rejects writes to a read-only disk like a write-protected medium', async () => {
    const image = new Uint8Array(64 * 512);
    const t = setup(new MemoryBackend(image, { readOnly: true }));
    for (const [cmd, ext] of [[0x30, false], [0x34, true], [0xc5, false]] as const) {
      if (ext) t.lba48(1, 1);
      else t.lba28(1, 1);
      t.command(cmd);
      expect(t.status()).toBe(0x41);
      expect(t.error()).toBe(0x44);
      expect(t.io.read(CTRL, 1) & 0x08).toBe(0);
    }
    expect(image.every((b) => b === 0)).toBe(true);
  });

  it('transfers READ/WRITE MULTIPLE in blocks set by SET MULTIPLE MODE', async () => {
    const image = new Uint8Array(64 * 512);
    const t = setup(new MemoryBackend(image));
    t.io.write(BASE + 2, 1, 3);
    t.command(0xc6);
    expect(t.status()).toBe(0x41); // not a power of two
    t.io.write(BASE + 2, 1, 4);
    t.command(0xc6);
    expect(t.status()).toBe(0x50);
    expect((await t.identify())[59]).toBe(0x104);

    t.lba28(8, 6);
    t.command(0xc5);
    t.writeBlock(Array.from({ length: 4 * 512 }, (_, i) => (i >> 9) + 1));
    await t.channel.whenIdle();
    expect(t.status()).toBe(0x58);
    t.writeBlock(Array.from({ length: 2 * 512 }, () => 9));
    await t.channel.whenIdle();
    expect(t.status()).toBe(0x50);
    expect([8, 9, 10, 11, 12, 13, 14].map((s) => image[s * 512])).toEqual([1, 2, 3, 4, 9, 9, 0]);

    t.lba28(8, 6);
    t.command(0xc4);
    await t.channel.whenIdle();
    expect(t.readBlock(4 * 512).filter((_, i) => i % 512 === 0)).toEqual([1, 2, 3, 4]);
    expect(t.irq.level).toBe(true);
    expect(t.status()).toBe(0x58);
    expect(t.readBlock(2 * 512).filter((_, i) => i % 512 === 0)).toEqual([9, 9]);
    expect(t.status()).toBe(0x50);

    t.io.write(BASE + 2, 1, 0);
    t.command(0xc6); // multiple mode off: READ MULTIPLE aborts
    t.lba28(0, 1);
    t.command(0xc4);
    expect(t.error()).toBe(0x04);
  });

  it('writes with WRITE SECTORS EXT and verifies with READ VERIFY', async () => {
    const image = new Uint8Array(64 * 512);
    const t = setup(new MemoryBackend(image));
    t.lba48(63, 1);
    t.command(0x34);
    t.writeBlock(new Uint8Array(512).fill(0x5a));
    await t.channel.whenIdle();
    expect(t.status()).toBe(0x50);
    expect(image[63 * 512 + 100]).toBe(0x5a);
    t.lba28(60, 4);
    t.command(0x40);
    expect(t.status()).toBe(0x50);
    expect(t.io.read(BASE + 3, 1)).toBe(63);
    t.lba28(61, 4);
    t.command(0x40);
    expect(t.status()).toBe(0x41);
    expect(t.error()).toBe(0x10);
    t.lba48(60, 4);
    t.command(0x42);
    expect(t.status()).toBe(0x50);
  });

  it('completes SEEK, FLUSH CACHE and the power commands, and reports active power mode', async () => {
    const backend = new FailingBackend(new Uint8Array(64 * 512));
    const t = setup(backend);
    t.lba28(10, 1);
    t.command(0x70);
    expect(t.status()).toBe(0x50);
    t.lba28(64, 1);
    t.command(0x70);
    expect(t.error()).toBe(0x10);
    t.command(0xe7);
    await t.channel.whenIdle();
    expect(backend.flushed).toBe(1);
    expect(t.status()).toBe(0x50);
    t.command(0xea);
    await t.channel.whenIdle();
    expect(backend.flushed).toBe(2);
    for (const c of [0xe0, 0xe1, 0xe2, 0xe3, 0x10]) {
      t.command(c);
      expect(t.irq.level).toBe(true);
      expect(t.status()).toBe(0x50);
    }
    t.io.write(BASE + 2, 1, 0);
    t.command(0xe5);
    expect(t.io.read(BASE + 2, 1)).toBe(0xff);
  });

  it('aborts unknown commands, NOP and the packet commands', () => {
    const t = setup(new MemoryBackend(new Uint8Array(64 * 512)));
    for (const c of [0x00, 0xb0, 0xa0, 0xa1, 0x08, 0xff]) {
      t.command(c);
      expect(t.irq.level).toBe(true);
      expect(t.status()).toBe(0x41);
      expect(t.error()).toBe(0x04);
    }
  });

  it('aborts DMA commands when the channel has no bus master', () => {
    const t = setup(new MemoryBackend(new Uint8Array(64 * 512)));
    t.lba28(0, 1);
    t.command(0xc8);
    expect(t.status()).toBe(0x41);
    expect(t.error()).toBe(0x04);
  });

  it('sets transfer modes and the write cache with SET FEATURES', async () => {
    const t = setup(new MemoryBackend(new Uint8Array(64 * 512)));
    t.io.write(BASE + 1, 1, 0x03);
    t.io.write(BASE + 2, 1, 0x42); // UDMA 2
    t.command(0xef);
    expect(t.status()).toBe(0x50);
    let w = await t.identify();
    expect(w[88] >> 8).toBe(0x04);
    expect(w[63] >> 8).toBe(0);
    t.io.write(BASE + 1, 1, 0x03);
    t.io.write(BASE + 2, 1, 0x21); // MWDMA 1
    t.command(0xef);
    w = await t.identify();
    expect(w[63] >> 8).toBe(0x02);
    expect(w[88] >> 8).toBe(0);
    t.io.write(BASE + 2, 1, 0x46); // UDMA 6: not supported
    t.command(0xef);
    expect(t.error()).toBe(0x04);
    t.io.write(BASE + 1, 1, 0x82);
    t.command(0xef);
    w = await t.identify();
    expect(w[85] & 0x20).toBe(0);
    t.io.write(BASE + 1, 1, 0x99);
    t.command(0xef);
    expect(t.error()).toBe(0x04);
  });

  it('runs EXECUTE DEVICE DIAGNOSTIC: signature, code 01h, interrupt', () => {
    const t = setup(new MemoryBackend(new Uint8Array(64 * 512)));
    t.lba28(0x123456, 9);
    t.command(0x90);
    expect(t.irq.level).toBe(true);
    expect(t.error()).toBe(0x01);
    expect([2, 3, 4, 5].map((r) => t.io.read(BASE + r, 1))).toEqual([1, 1, 0, 0]);
  });

  it('drops a media completion that arrives after a soft reset', async () => {
    const t = setup(new PatternBackend(64 * 512));
    t.lba28(1, 1);
    t.command(0x20);
    t.io.write(CTRL, 1, 0x04);
    t.io.write(CTRL, 1, 0x00);
    await t.channel.whenIdle();
    expect(t.irq.level).toBe(false);
    expect(t.status()).toBe(0x50);
    expect(t.io.read(BASE, 2)).toBe(0);
  });

  it('continues a read from a saved state', async () => {
    const backend = new PatternBackend(64 * 512);
    const a = setup(backend);
    a.lba28(7, 2);
    a.command(0x20);
    await a.channel.whenIdle();
    a.readBlock(100);
    const saved = a.channel.saveState();
    const b = setup(backend);
    b.channel.loadState(saved);
    expect(b.readBlock(412)).toEqual(sectorPattern(7).slice(100));
    expect(b.irq.level).toBe(true);
    expect(b.readBlock(512)).toEqual(sectorPattern(8));
    expect(b.status()).toBe(0x50);
    expect(() => b.disk.loadState({ version: 0 })).toThrow(/version/);
  });
});
