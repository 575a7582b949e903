import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { AtapiCdrom } from '../../src/devices/atapi-cdrom.ts';
import { IdeChannel } from '../../src/devices/ide-channel.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import { MemoryBackend } from '../../src/storage/memory-backend.ts';

const BASE = 0x170;
const CTRL = 0x376;

function disc(sectors: number): MemoryBackend {
  const data = new Uint8Array(sectors * 2048);
  for (let s = 0; s < sectors; s++) data.fill(s & 0xff, s * 2048, s * 2048 + 2048);
  return new MemoryBackend(data, { readOnly: true });
}

/** A backend that claims a DVD-sized image without holding one. */
function bigDisc(sectors: number) {
  return { size: sectors * 2048, readOnly: true, read: async (_o: number, n: number) => new Uint8Array(n), write: async () => {}, flush: async () => {} };
}

interface Reply {
  status: number;
  error: number;
  data: number[];
  /** Byte counts of the DRQ blocks. */
  blocks: number[];
}

function setup(options: { media?: MemoryBackend; onGuestEject?: () => void } = {}) {
  const io = new IoBus();
  const irq = new IrqLine('irq15');
  const clock = new EventClock();
  const channel = new IdeChannel({ io, irq, basePort: BASE, controlPort: CTRL, clock });
  const cd = new AtapiCdrom({ backend: options.media, onGuestEject: options.onGuestEject });
  channel.attach(0, cd);
  const status = () => io.read(BASE + 7, 1);

  /** Issue a PACKET command by PIO and collect the whole data-in reply. */
  const packet = async (cdb: number[], byteCountLimit = 0xfffe): Promise<Reply> => {
    io.write(BASE + 1, 1, 0);
    io.write(BASE + 4, 1, byteCountLimit & 0xff);
    io.write(BASE + 5, 1, byteCountLimit >> 8);
    io.write(BASE + 7, 1, 0xa0);
    expect(io.read(CTRL, 1) & 0x08).toBe(0x08);
    expect(io.read(BASE + 2, 1) & 3).toBe(1); // CoD: the device wants the packet
    expect(irq.level).toBe(false);
    const bytes = [...cdb, ...new Array(12 - cdb.length).fill(0)];
    for (let i = 0; i < 12; i += 2) io.write(BASE, 2, bytes[i] | (bytes[i + 1] << 8));
    const data: number[] = [];
    const blocks: number[] = [];
    for (;;) {
      await channel.whenIdle();
      expect(irq.level).toBe(true);
      const s = status();
      if (!(s & 0x08)) {
        expect(io.read(BASE + 2, 1) & 3).toBe(3); // IO and CoD: status phase
        return { status: s, error: io.read(BASE + 1, 1), data, blocks };
      }
      expect(io.read(BASE + 2, 1) & 3).toBe(2);
      const count = io.read(BASE + 4, 1) | (io.read(BASE + 5, 1) << 8);
      blocks.push(count);
      for (let i = 0; i < count; i += 2) {
        const w = io.read(BASE, 2);
        data.push(w & 0xff, w >> 8);
      }
      if (count & 1) data.pop();
    }
  };
  const sense = async () => {
    const r = await packet([0x03, 0, 0, 0, 18]);
    return [r.data[2] & 0x0f, r.data[12], r.data[13]];
  };
  return { io, irq, channel, cd, status, packet, sense };
}

const ok = 0x50;

describe('AtapiCdrom', () => {
  it('loads the ATAPI signature and aborts ATA commands with it', async () => {
    const t = setup();
    expect([2, 3, 4, 5].map((r) => t.io.read(BASE + r, 1))).toEqual([1, 1, 0x14, 0xeb]);
    expect(t.status()).toBe(0);
    t.io.write(BASE + 4, 1, 0);
    t.io.write(BASE + 5, 1, 0);
    t.io.write(BASE + 7, 1, 0xec); // IDENTIFY DEVICE
    expect(t.irq.level).toBe(true);
    expect(t.status()).toBe(0x41);
    expect(t.io.read(BASE + 1, 1)).toBe(0x04);
    expect([4, 5].map((r) => t.io.read(BASE + r, 1))).toEqual([0x14, 0xeb]);
    t.io.write(BASE + 7, 1, 0x20); // READ SECTORS
    expect(t.status()).toBe(0x41);
  });

  it('answers IDENTIFY PACKET DEVICE as a removable CD-ROM named QEMU DVD-ROM', () => {
    const t = setup();
    t.io.write(BASE + 7, 1, 0xa1);
    expect(t.irq.level).toBe(true);
    const w = Array.from({ length: 256 }, () => t.io.read(BASE, 2));
    expect(w[0]).toBe(0x85c0);
    let model = '';
    for (let i = 27; i < 47; i++) model += String.fromCharCode(w[i] >> 8, w[i] & 0xff);
    expect(model.trimEnd()).toBe('QEMU DVD-ROM');
    expect(w[49] & 0x0300).toBe(0x0300);
    expect(t.status()).toBe(ok);
  });

  it('reports NOT READY / MEDIUM NOT PRESENT without a disc', async () => {
    const t = setup();
    const r = await t.packet([0x00]);
    expect(r.status).toBe(0x41);
    expect(r.error >> 4).toBe(0x02);
    expect(await t.sense()).toEqual([0x02, 0x3a, 0x00]);
    const cap = await t.packet([0x25]);
    expect(cap.error >> 4).toBe(0x02);
  });

  it('reports UNIT ATTENTION once after a disc is inserted', async () => {
    const t = setup();
    t.cd.insert(disc(100));
    let r = await t.packet([0x00]);
    expect(r.status).toBe(0x41);
    expect(r.error >> 4).toBe(0x06);
    expect(await t.sense()).toEqual([0x06, 0x28, 0x00]);
    r = await t.packet([0x00]);
    expect(r.status).toBe(ok);
    expect(await t.sense()).toEqual([0, 0, 0]);
  });

  it('lets INQUIRY through a pending unit attention and REQUEST SENSE consume it', async () => {
    const t = setup();
    t.cd.insert(disc(10));
    const inq = await t.packet([0x12, 0, 0, 0, 36]);
    expect(inq.status).toBe(ok);
    expect(inq.data[0]).toBe(0x05);
    expect(inq.data[1]).toBe(0x80);
    expect(String.fromCharCode(...inq.data.slice(8, 16))).toBe('QEMU    ');
    expect(String.fromCharCode(...inq.data.slice(16, 32)).trimEnd()).toBe('QEMU DVD-ROM');
    expect(await t.sense()).toEqual([0x06, 0x28, 0x00]);
    expect((await t.packet([0x00])).status).toBe(ok);
    // Allocation length limits the reply.
    const short = await t.packet([0x12, 0, 0, 0, 5]);
    expect(short.data.length).toBe(5);
    expect((await t.packet([0x12, 1, 0x80, 0, 36])).error >> 4).toBe(0x05);
  });

  it('reads capacity and sectors with READ(10) and READ(12)', async () => {
    const t = setup({ media: disc(300) });
    await t.packet([0x00]); // consume nothing: a disc present at power-on gives no attention
    const cap = await t.packet([0x25]);
    expect(cap.data).toEqual([0, 0, 0x01, 0x2b, 0, 0, 0x08, 0]);
    const r = await t.packet([0x28, 0, 0, 0, 0, 10, 0, 0, 3]);
    expect(r.status).toBe(ok);
    expect(r.data.length).toBe(3 * 2048);
    expect([r.data[0], r.data[2048], r.data[4095], r.data[4096]]).toEqual([10, 11, 11, 12]);
    const r12 = await t.packet([0xa8, 0, 0, 0, 1, 0x2b, 0, 0, 0, 1]);
    expect(r12.data.length).toBe(2048);
    expect(r12.data[0]).toBe(0x2b);
    const none = await t.packet([0x28, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(none.status).toBe(ok);
    expect(none.data.length).toBe(0);
  });

  it('splits data into DRQ blocks no larger than the byte count limit', async () => {
    const t = setup({ media: disc(100) });
    const r = await t.packet([0x28, 0, 0, 0, 0, 1, 0, 0, 2], 3001); // an odd limit is rounded down
    expect(r.blocks).toEqual([3000, 1096]);
    expect(r.data.length).toBe(4096);
    expect(r.data[2047]).toBe(1);
    expect(r.data[2048]).toBe(2);
    const big = await t.packet([0x28, 0, 0, 0, 0, 0, 0, 0, 40]);
    expect(big.blocks.reduce((a, b) => a + b)).toBe(40 * 2048);
    expect(Math.max(...big.blocks)).toBeLessThanOrEqual(0xfffe);
    expect(big.data[39 * 2048]).toBe(39);
  });

  it('refuses reads beyond the disc and unknown opcodes as ILLEGAL REQUEST', async () => {
    const t = setup({ media: disc(100) });
    const r = await t.packet([0x28, 0, 0, 0, 0, 99, 0, 0, 2]);
    expect(r.status).toBe(0x41);
    expect(r.error >> 4).toBe(0x05);
    expect(r.data.length).toBe(0);
    expect(await t.sense()).toEqual([0x05, 0x21, 0x00]);
    expect((await t.packet([0xff])).error >> 4).toBe(0x05);
    expect(await t.sense()).toEqual([0x05, 0x20, 0x00]);
  });

  it('reads the TOC in LBA and MSF form, and the multisession format', async () => {
    const t = setup({ media: disc(1000) });
    const lba = await t.packet([0x43, 0, 0, 0, 0, 0, 0, 0, 100]);
    expect(lba.data).toEqual([0, 18, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0, 0, 0x14, 0xaa, 0, 0, 0, 0x03, 0xe8]);
    const msf = await t.packet([0x43, 2, 0, 0, 0, 0, 0, 0, 100]);
    // Lead-out at LBA 1000 = 1150 frames = 00:15:25; track 1 at 00:02:00.
    expect(msf.data.slice(8, 12)).toEqual([0, 0, 2, 0]);
    expect(msf.data.slice(16, 20)).toEqual([0, 0, 15, 25]);
    const leadOutOnly = await t.packet([0x43, 0, 0, 0, 0, 0, 0xaa, 0, 100]);
    expect(leadOutOnly.data[0] << 8 | leadOutOnly.data[1]).toBe(10);
    const session = await t.packet([0x43, 0, 1, 0, 0, 0, 0, 0, 12]);
    expect(session.data).toEqual([0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0]);
    const oldStyle = await t.packet([0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40]);
    expect(oldStyle.data.slice(0, 4)).toEqual([0, 10, 1, 1]);
    expect((await t.packet([0x43, 0, 0, 0, 0, 0, 5, 0, 100])).error >> 4).toBe(0x05);
    expect((await t.packet([0x43, 0, 2, 0, 0, 0, 0, 0, 100])).error >> 4).toBe(0x05);
  });

  it('returns mode pages 01h, 0Dh, 0Eh, 2Ah and all of them for 3Fh', async () => {
    const t = setup({ media: disc(10) });
    const page = async (p: number) => (await t.packet([0x5a, 0, p, 0, 0, 0, 0, 0x10, 0])).data;
    const caps = await page(0x2a);
    expect(caps[8]).toBe(0x2a);
    expect(caps.length).toBe(8 + 2 + caps[9]);
    expect(caps[2]).toBe(0x01); // medium type: disc present
    expect(caps[8 + 6] & 0x08).toBe(0x08); // eject supported
    expect((await page(0x01)).slice(8, 10)).toEqual([0x01, 0x06]);
    expect((await page(0x0d)).slice(8, 10)).toEqual([0x0d, 0x06]);
    expect((await page(0x0e)).slice(8, 10)).toEqual([0x0e, 0x0e]);
    const all = await page(0x3f);
    expect(all.length).toBe(8 + 8 + 8 + 16 + caps.length - 8);
    expect((all[0] << 8) | all[1]).toBe(all.length - 2);
    const changeable = await page(0x40 | 0x2a);
    expect(changeable.slice(10).every((b) => b === 0)).toBe(true);
    expect((await t.packet([0x5a, 0, 0x05, 0, 0, 0, 0, 0, 64])).error >> 4).toBe(0x05);
    expect((await t.packet([0x5a, 0, 0xc0 | 0x2a, 0, 0, 0, 0, 0, 64])).error >> 4).toBe(0x05);
    expect(await t.sense()).toEqual([0x05, 0x39, 0x00]);
  });

  it('reports the current profile in GET CONFIGURATION', async () => {
    const t = setup();
    const profile = async () => {
      const d = (await t.packet([0x46, 0, 0, 0, 0, 0, 0, 0, 64])).data;
      return (d[6] << 8) | d[7];
    };
    expect(await profile()).toBe(0);
    t.cd.insert(disc(10));
    expect(await profile()).toBe(0x0008);
    t.cd.insert(bigDisc(2_000_000) as never);
    expect(await profile()).toBe(0x0010);
    const d = (await t.packet([0x46, 2, 0, 1, 0, 0, 0, 0, 64])).data; // only feature 0001h
    expect(d.length).toBe(8 + 12);
    expect((d[8] << 8) | d[9]).toBe(1);
    expect(((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0).toBe(d.length - 4);
  });

  it('reports media events once through polled GET EVENT STATUS NOTIFICATION', async () => {
    const t = setup();
    const poll = async () => (await t.packet([0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8])).data;
    expect(await poll()).toEqual([0, 6, 4, 0x10, 0, 0, 0, 0]);
    t.cd.insert(disc(10));
    expect(await poll()).toEqual([0, 6, 4, 0x10, 2, 2, 0, 0]);
    expect((await poll())[4]).toBe(0);
    t.cd.eject();
    expect((await poll()).slice(4, 6)).toEqual([3, 0]);
    const notMedia = (await t.packet([0x4a, 1, 0, 0, 0x02, 0, 0, 0, 8])).data;
    expect(notMedia).toEqual([0, 2, 0x80, 0x10]);
    expect((await t.packet([0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8])).error >> 4).toBe(0x05);
  });

  it('opens the tray with START STOP UNIT unless the medium is locked', async () => {
    let ejected = 0;
    const t = setup({ media: disc(10), onGuestEject: () => ejected++ });
    expect((await t.packet([0x1e, 0, 0, 0, 1])).status).toBe(ok);
    let r = await t.packet([0x1b, 0, 0, 0, 0x02]);
    expect(r.error >> 4).toBe(0x05);
    expect(await t.sense()).toEqual([0x05, 0x53, 0x02]);
    expect(ejected).toBe(0);
    await t.packet([0x1e, 0, 0, 0, 0]);
    r = await t.packet([0x1b, 0, 0, 0, 0x02]);
    expect(r.status).toBe(ok);
    expect(ejected).toBe(1);
    expect((await t.packet([0x00])).error >> 4).toBe(0x02);
    const mech = await t.packet([0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8]);
    expect(mech.data[1] & 0x10).toBe(0x10);
    // Closing the tray brings the disc back, with a unit attention.
    await t.packet([0x1b, 0, 0, 0, 0x03]);
    expect((await t.packet([0x00])).error >> 4).toBe(0x06);
    expect((await t.packet([0x00])).status).toBe(ok);
  });

  it('reports NOT READY after the host ejects the disc', async () => {
    const t = setup({ media: disc(10) });
    expect((await t.packet([0x00])).status).toBe(ok);
    t.cd.eject();
    expect(t.cd.mediaPresent).toBe(false);
    expect((await t.packet([0x28, 0, 0, 0, 0, 0, 0, 0, 1])).error >> 4).toBe(0x02);
  });

  it('answers READ DISC INFORMATION, SET CD SPEED and SEEK', async () => {
    const t = setup({ media: disc(10) });
    const info = await t.packet([0x51, 0, 0, 0, 0, 0, 0, 0, 34]);
    expect(info.data.length).toBe(34);
    expect(info.data.slice(0, 7)).toEqual([0, 32, 0x0e, 1, 1, 1, 1]);
    expect((await t.packet([0xbb, 0, 0xff, 0xff])).status).toBe(ok);
    expect((await t.packet([0x2b, 0, 0, 0, 0, 5])).status).toBe(ok);
    expect((await t.packet([0x2b, 0, 0, 0, 0, 10])).error >> 4).toBe(0x05);
  });

  it('turns a media failure during READ into MEDIUM ERROR', async () => {
    const broken = disc(10);
    broken.read = async () => {
      throw new Error('I/O');
    };
    const t = setup({ media: broken });
    const r = await t.packet([0x28, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(r.error >> 4).toBe(0x03);
    expect(await t.sense()).toEqual([0x03, 0x11, 0x00]);
  });

  it('DEVICE RESET works while DRQ is set and restores the signature without an interrupt', async () => {
    const t = setup({ media: disc(10) });
    t.io.write(BASE + 7, 1, 0xa0); // waiting for the packet
    t.io.write(BASE + 7, 1, 0x08);
    expect(t.irq.level).toBe(false);
    expect(t.status()).toBe(0);
    expect([4, 5].map((r) => t.io.read(BASE + r, 1))).toEqual([0x14, 0xeb]);
    expect((await t.packet([0x00])).status).toBe(ok);
  });

  it('saves and restores its media state', async () => {
    const t = setup({ media: disc(10) });
    await t.packet([0x1e, 0, 0, 0, 1]);
    await t.packet([0xff]);
    const saved = t.cd.saveState();
    const u = setup({ media: disc(10) });
    u.cd.loadState(saved);
    expect(await u.sense()).toEqual([0x05, 0x20, 0x00]);
    expect((await u.packet([0x1b, 0, 0, 0, 0x02])).error >> 4).toBe(0x05); // still locked
    expect(() => u.cd.loadState({ version: 9 })).toThrow(/version/);
  });
});
