import { describe, expect, it } from 'vitest';
import type { DeviceState } from '../../src/bus/device.ts';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { AtaDisk } from '../../src/devices/ata-disk.ts';
import { AtapiCdrom } from '../../src/devices/atapi-cdrom.ts';
import { IdeChannel, type IdeDrive, type IdeDrivePort } from '../../src/devices/ide-channel.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import { MemoryBackend } from '../../src/storage/memory-backend.ts';

const BASE = 0x1f0;
const CTRL = 0x3f6;

/** A minimal drive: 0x20 sends 8 known bytes, 0x30 takes 8 bytes, 0x77 stays busy. */
class ScriptedDrive implements IdeDrive {
  readonly kind = 'ata';
  port!: IdeDrivePort;
  commands: number[] = [];
  received: number[][] = [];
  resets = 0;
  connect(port: IdeDrivePort): void {
    this.port = port;
  }
  executeCommand(command: number): void {
    this.commands.push(command);
    const tf = this.port.taskFile;
    if (command === 0x20) {
      tf.status = 0x50;
      this.port.startPioIn(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), true);
    } else if (command === 0x30) {
      tf.status = 0x50;
      this.port.startPioOut(8, false);
    } else if (command === 0x77) {
      tf.status = 0xd0;
    } else {
      tf.status = 0x50;
      this.port.raiseInterrupt();
    }
  }
  pioTransferDone(): void {
    this.received.push([...this.port.pioData()]);
    this.port.taskFile.status = 0x50;
  }
  dmaStart(): void {}
  reset(): void {
    this.resets++;
    this.port.taskFile.setSignature(false);
    this.port.taskFile.status = 0x50;
    this.port.taskFile.error = 1;
  }
  saveState(): DeviceState {
    return { version: 1, commands: this.commands.slice() };
  }
  loadState(s: DeviceState): void {
    this.commands = (s.commands as number[]).slice();
  }
}

function setup() {
  const io = new IoBus();
  const irq = new IrqLine('irq14');
  const clock = new EventClock();
  const channel = new IdeChannel({ io, irq, basePort: BASE, controlPort: CTRL, clock });
  return { io, irq, clock, channel };
}

describe('IdeChannel', () => {
  it('registers the command block and the control register only', () => {
    const { io } = setup();
    expect(io.ownerOf(0x1f0)?.owner).toMatch(/ide/);
    expect(io.ownerOf(0x1f7)?.owner).toMatch(/ide/);
    expect(io.ownerOf(0x3f6)?.owner).toMatch(/control/);
    expect(io.ownerOf(0x3f7)).toBeUndefined();
    expect(io.ownerOf(0x1f8)).toBeUndefined();
  });

  it('reads 0 everywhere and ignores commands when no drive is attached', () => {
    const { io, irq } = setup();
    for (let r = 1; r <= 7; r++) expect(io.read(BASE + r, 1)).toBe(0);
    expect(io.read(CTRL, 1)).toBe(0);
    io.write(BASE + 7, 1, 0xec);
    expect(io.read(BASE + 7, 1)).toBe(0);
    expect(irq.level).toBe(false);
  });

  it('reads status 0 for an absent slave and ignores its commands', () => {
    const { io, irq, channel } = setup();
    const master = new ScriptedDrive();
    channel.attach(0, master);
    expect(io.read(BASE + 7, 1)).toBe(0x50);
    io.write(BASE + 6, 1, 0xb0); // select the slave
    expect(io.read(BASE + 6, 1)).toBe(0xb0);
    expect(io.read(BASE + 7, 1)).toBe(0);
    expect(io.read(BASE + 1, 1)).toBe(0);
    io.write(BASE + 7, 1, 0x99);
    expect(master.commands).toEqual([]);
    expect(irq.level).toBe(false);
    io.write(BASE + 6, 1, 0xa0);
    expect(io.read(CTRL, 1)).toBe(0x50);
  });

  it('writes the task file to both drives and keeps the previous bytes for HOB reads', () => {
    const { io, channel } = setup();
    channel.attach(0, new ScriptedDrive());
    channel.attach(1, new ScriptedDrive());
    io.write(BASE + 2, 1, 0x12);
    io.write(BASE + 2, 1, 0x34);
    io.write(BASE + 5, 1, 0xab);
    io.write(BASE + 5, 1, 0xcd);
    expect(io.read(BASE + 2, 1)).toBe(0x34);
    io.write(CTRL, 1, 0x80); // HOB
    expect(io.read(BASE + 2, 1)).toBe(0x12);
    expect(io.read(BASE + 5, 1)).toBe(0xab);
    io.write(BASE + 3, 1, 0x01); // any task file write clears HOB
    expect(io.read(BASE + 2, 1)).toBe(0x34);
    io.write(BASE + 6, 1, 0x10); // slave sees the same values
    expect(io.read(BASE + 6, 1)).toBe(0xb0);
    expect(io.read(BASE + 5, 1)).toBe(0xcd);
  });

  it('serves wide accesses to the byte registers register by register', () => {
    const { io, channel } = setup();
    channel.attach(0, new ScriptedDrive());
    io.write(BASE + 2, 2, 0x5678); // sector count 0x78, LBA low 0x56
    expect(io.read(BASE + 2, 1)).toBe(0x78);
    expect(io.read(BASE + 3, 1)).toBe(0x56);
    expect(io.read(BASE + 4, 4)).toBe(0x50a00000 | 0); // mid 0, high 0, device a0, status 50
  });

  it('acknowledges the interrupt on a Status read but not on Alternate Status', () => {
    const { io, irq, channel } = setup();
    channel.attach(0, new ScriptedDrive());
    io.write(BASE + 7, 1, 0x40);
    expect(irq.level).toBe(true);
    expect(io.read(CTRL, 1)).toBe(0x50);
    expect(irq.level).toBe(true);
    expect(io.read(BASE + 7, 1)).toBe(0x50);
    expect(irq.level).toBe(false);
  });

  it('masks INTRQ with nIEN and drives it again when nIEN clears', () => {
    const { io, irq, channel } = setup();
    channel.attach(0, new ScriptedDrive());
    io.write(CTRL, 1, 0x02);
    io.write(BASE + 7, 1, 0x40);
    expect(irq.level).toBe(false);
    io.write(CTRL, 1, 0x00);
    expect(irq.level).toBe(true);
    io.write(CTRL, 1, 0x02);
    expect(irq.level).toBe(false);
  });

  it('clears a pending interrupt when a new command is written', () => {
    const { io, irq, channel } = setup();
    const d = new ScriptedDrive();
    channel.attach(0, d);
    io.write(BASE + 7, 1, 0x40);
    expect(irq.level).toBe(true);
    io.write(BASE + 7, 1, 0x77); // the scripted drive goes busy without interrupting
    expect(irq.level).toBe(false);
  });

  it('moves PIO data-in through 16- and 32-bit reads and then drops DRQ', () => {
    const { io, channel } = setup();
    channel.attach(0, new ScriptedDrive());
    expect(io.read(BASE, 2)).toBe(0); // no DRQ: nothing to read
    io.write(BASE + 7, 1, 0x20);
    expect(io.read(BASE + 7, 1) & 0x08).toBe(0x08);
    expect(io.read(BASE, 1)).toBe(0xff); // byte reads of the data port return nothing
    expect(io.read(BASE, 2)).toBe(0x0201);
    expect(io.read(BASE, 4)).toBe(0x06050403);
    expect(io.read(BASE, 2)).toBe(0x0807);
    expect(io.read(BASE + 7, 1)).toBe(0x50);
    expect(io.read(BASE, 2)).toBe(0);
  });

  it('moves PIO data-out through 32-bit writes and hands it to the drive', () => {
    const { io, channel } = setup();
    const d = new ScriptedDrive();
    channel.attach(0, d);
    io.write(BASE, 2, 0x1234); // ignored: no DRQ
    io.write(BASE + 7, 1, 0x30);
    io.write(BASE, 4, 0x44332211);
    io.write(BASE, 1, 0x99); // byte writes are ignored
    io.write(BASE, 2, 0x6655);
    expect(d.received).toEqual([]);
    io.write(BASE, 2, 0x8877);
    expect(d.received).toEqual([[0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]]);
    expect(io.read(BASE + 7, 1)).toBe(0x50);
  });

  it('ignores commands while the selected drive is busy', () => {
    const { io, channel } = setup();
    const d = new ScriptedDrive();
    channel.attach(0, d);
    io.write(BASE + 7, 1, 0x77);
    io.write(BASE + 7, 1, 0x40);
    expect(d.commands).toEqual([0x77]);
  });

  it('soft reset holds BSY, then loads ATA and ATAPI signatures and selects device 0', async () => {
    const { io, irq, channel } = setup();
    channel.attach(0, new AtaDisk({ backend: new MemoryBackend(new Uint8Array(512 * 64)) }));
    channel.attach(1, new AtapiCdrom());
    io.write(BASE + 6, 1, 0xb0);
    io.write(BASE + 2, 1, 0x55);
    io.write(CTRL, 1, 0x04);
    expect(io.read(CTRL, 1) & 0x80).toBe(0x80);
    io.write(CTRL, 1, 0x00);
    expect(io.read(BASE + 6, 1) & 0x10).toBe(0); // device 0 selected
    expect([1, 2, 3, 4, 5].map((r) => io.read(BASE + r, 1))).toEqual([0x01, 0x01, 0x01, 0x00, 0x00]);
    expect(io.read(BASE + 7, 1)).toBe(0x50);
    io.write(BASE + 6, 1, 0xb0);
    expect([1, 2, 3, 4, 5].map((r) => io.read(BASE + r, 1))).toEqual([0x01, 0x01, 0x01, 0x14, 0xeb]);
    expect(io.read(BASE + 7, 1)).toBe(0x00);
    expect(irq.level).toBe(false);
    await channel.whenIdle();
  });

  it('refuses a second drive in the same slot', () => {
    const { channel } = setup();
    channel.attach(0, new ScriptedDrive());
    expect(() => channel.attach(0, new ScriptedDrive())).toThrow(/slot 0/);
  });

  it('saves and restores a PIO transfer in the middle', () => {
    const a = setup();
    a.channel.attach(0, new ScriptedDrive());
    a.io.write(BASE + 7, 1, 0x20);
    expect(a.io.read(BASE, 2)).toBe(0x0201);
    const saved = a.channel.saveState();

    const b = setup();
    const drive = new ScriptedDrive();
    b.channel.attach(0, drive);
    b.channel.loadState(saved);
    expect(drive.commands).toEqual([0x20]);
    expect(b.irq.level).toBe(true);
    expect(b.io.read(BASE, 4)).toBe(0x06050403);
    expect(b.io.read(BASE, 2)).toBe(0x0807);
    expect(() => b.channel.loadState({ version: 2 })).toThrow(/version/);
  });

  it('hardware reset returns registers and the interrupt to power-on values', () => {
    const { io, irq, channel } = setup();
    const d = new ScriptedDrive();
    channel.attach(0, d);
    io.write(BASE + 7, 1, 0x40);
    io.write(CTRL, 1, 0x80);
    channel.reset();
    expect(irq.level).toBe(false);
    expect(d.resets).toBe(2);
    expect(io.read(BASE + 2, 1)).toBe(1);
    expect(io.read(BASE + 6, 1)).toBe(0xa0);
  });

  it('survives arbitrary port traffic from the guest without throwing', async () => {
    const { io, channel } = setup();
    channel.attach(0, new AtaDisk({ backend: new MemoryBackend(new Uint8Array(512 * 256)) }));
    const cd = new AtapiCdrom({ backend: new MemoryBackend(new Uint8Array(2048 * 64), { readOnly: true }) });
    channel.attach(1, cd);
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
    const sizes = [1, 2, 4] as const;
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 200; i++) {
        const port = next() % 9 === 8 ? CTRL : BASE + (next() % 8);
        const size = sizes[next() % 3];
        // Mostly plausible commands, sometimes anything at all.
        const value = port === BASE + 7 && next() % 2 ? [0x20, 0x30, 0xa0, 0xa1, 0xec, 0xc4, 0x24, 0x90][next() % 8] : next();
        if (port === CTRL && value & 0x04 && next() % 4) continue; // do not hold SRST most of the time
        if (next() % 2) io.write(port, size, value);
        else io.read(port, size);
      }
      await channel.whenIdle();
    }
    io.write(CTRL, 1, 0x04);
    io.write(CTRL, 1, 0x00);
    expect(io.read(BASE + 7, 1)).toBe(0x50);
  });
});
