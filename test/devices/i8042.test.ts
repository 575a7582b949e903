import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { StateVersionError } from '../../src/bus/device.ts';
import { I8042, type Ps2PortDevice } from '../../src/devices/i8042.ts';

/** A scripted PS/2 device: records what the controller sent, answers with queued bytes. */
class FakeDevice implements Ps2PortDevice {
  received: number[] = [];
  out: number[] = [];
  private notify: () => void = () => {};
  reply: (byte: number) => number[] = () => [0xfa];
  writeFromController(byte: number): void {
    this.received.push(byte);
    this.out.push(...this.reply(byte));
    this.notify();
  }
  hasOutput(): boolean {
    return this.out.length > 0;
  }
  readOutput(): number {
    return this.out.shift()!;
  }
  connect(onOutput: () => void): void {
    this.notify = onOutput;
  }
  send(...bytes: number[]): void {
    this.out.push(...bytes);
    this.notify();
  }
}

function setup(opts: { keyboard?: boolean; mouse?: boolean } = {}) {
  const io = new IoBus();
  const irq1 = new IrqLine('irq1');
  const irq12 = new IrqLine('irq12');
  const edges1: boolean[] = [];
  irq1.connect((l) => edges1.push(l));
  const a20: boolean[] = [];
  let resets = 0;
  const keyboard = opts.keyboard === false ? undefined : new FakeDevice();
  const mouse = opts.mouse === false ? undefined : new FakeDevice();
  const kbc = new I8042({
    io,
    irqKeyboard: irq1,
    irqMouse: irq12,
    setA20: (on) => a20.push(on),
    requestReset: () => resets++,
    keyboard,
    mouse,
  });
  const status = () => io.read(0x64, 1);
  const data = () => io.read(0x60, 1);
  const cmd = (c: number) => io.write(0x64, 1, c);
  const put = (v: number) => io.write(0x60, 1, v);
  return { io, irq1, irq12, edges1, a20, resets: () => resets, keyboard: keyboard!, mouse: mouse!, kbc, status, data, cmd, put };
}

describe('I8042', () => {
  it('powers up with an empty output buffer and the keyboard unlocked', () => {
    const t = setup();
    expect(t.status() & 0x01).toBe(0);
    expect(t.status() & 0x10).toBe(0x10);
    expect(t.status() & 0x04).toBe(0);
    expect(t.irq1.level).toBe(false);
  });

  it('answers self-test with 0x55 and sets the system flag', () => {
    const t = setup();
    t.cmd(0xaa);
    expect(t.status() & 0x01).toBe(1);
    expect(t.status() & 0x04).toBe(0x04);
    expect(t.data()).toBe(0x55);
    expect(t.status() & 0x01).toBe(0);
  });

  it('sets A2 for command writes and clears it for data writes', () => {
    const t = setup();
    t.cmd(0xae);
    expect(t.status() & 0x08).toBe(0x08);
    t.put(0xf4);
    expect(t.status() & 0x08).toBe(0);
  });

  it('reads and writes the command byte and copies the system flag into status', () => {
    const t = setup();
    t.cmd(0x20);
    expect(t.data()).toBe(0x03);
    t.cmd(0x60);
    t.put(0x65);
    t.cmd(0x20);
    expect(t.data()).toBe(0x65);
    expect(t.status() & 0x04).toBe(0x04);
    t.cmd(0x60);
    t.put(0x61);
    expect(t.status() & 0x04).toBe(0);
  });

  it('reads and writes controller RAM through 0x21-0x3F / 0x61-0x7F', () => {
    const t = setup();
    t.cmd(0x65);
    t.put(0x5a);
    t.cmd(0x25);
    expect(t.data()).toBe(0x5a);
  });

  it('interface tests report 0 for a present device and an error for an empty port', () => {
    const t = setup({ mouse: false });
    t.cmd(0xab);
    expect(t.data()).toBe(0x00);
    t.cmd(0xa9);
    expect(t.data()).not.toBe(0x00);
  });

  it('0xAD/0xAE and 0xA7/0xA8 toggle the disable bits in the command byte', () => {
    const t = setup();
    t.cmd(0xad);
    t.cmd(0xa7);
    t.cmd(0x20);
    expect(t.data() & 0x30).toBe(0x30);
    t.cmd(0xae);
    t.cmd(0x20);
    expect(t.data() & 0x30).toBe(0x20);
    t.cmd(0xa8);
    t.cmd(0x20);
    expect(t.data() & 0x30).toBe(0);
  });

  it('forwards 0x60 writes to the keyboard and raises IRQ1 for its answer', () => {
    const t = setup();
    t.put(0xf4);
    expect(t.keyboard.received).toEqual([0xf4]);
    expect(t.status() & 0x21).toBe(0x01);
    expect(t.irq1.level).toBe(true);
    expect(t.irq12.level).toBe(false);
    expect(t.data()).toBe(0xfa);
    expect(t.irq1.level).toBe(false);
  });

  it('gives each keyboard byte its own IRQ1 edge', () => {
    const t = setup();
    t.keyboard.send(0x1c, 0x9c);
    expect(t.data()).toBe(0x1c);
    expect(t.data()).toBe(0x9c);
    expect(t.edges1).toEqual([true, false, true, false]);
  });

  it('keeps the output buffer when read with OBF clear (returns the latch again)', () => {
    const t = setup();
    t.cmd(0xaa);
    expect(t.data()).toBe(0x55);
    expect(t.data()).toBe(0x55);
  });

  it('sends 0xD4 bytes to the mouse and raises IRQ12 with the aux flag', () => {
    const t = setup();
    t.cmd(0xd4);
    t.put(0xf2);
    expect(t.mouse.received).toEqual([0xf2]);
    expect(t.keyboard.received).toEqual([]);
    expect(t.status() & 0x21).toBe(0x21);
    expect(t.irq12.level).toBe(true);
    expect(t.irq1.level).toBe(false);
    expect(t.data()).toBe(0xfa);
    expect(t.irq12.level).toBe(false);
  });

  it('masks IRQs by the command byte enables but still fills the buffer', () => {
    const t = setup();
    t.cmd(0x60);
    t.put(0x00);
    t.keyboard.send(0x1c);
    expect(t.status() & 1).toBe(1);
    expect(t.irq1.level).toBe(false);
    t.cmd(0x60);
    t.put(0x01);
    // The command reply path does not disturb the waiting byte.
    expect(t.irq1.level).toBe(true);
    expect(t.data()).toBe(0x1c);
  });

  it('holds keyboard bytes while the keyboard interface is disabled', () => {
    const t = setup();
    t.cmd(0xad);
    t.keyboard.send(0x1c);
    expect(t.status() & 1).toBe(0);
    t.cmd(0xae);
    expect(t.status() & 1).toBe(1);
    expect(t.data()).toBe(0x1c);
  });

  it('holds mouse bytes while the aux interface is disabled', () => {
    const t = setup();
    t.cmd(0xa7);
    t.mouse.send(0x08);
    expect(t.status() & 1).toBe(0);
    t.cmd(0xa8);
    expect(t.status() & 0x21).toBe(0x21);
  });

  it('translates set 2 to set 1, folding F0 into bit 7', () => {
    const t = setup();
    t.cmd(0x60);
    t.put(0x41);
    t.keyboard.send(0x1c, 0xf0, 0x1c, 0xe0, 0x75, 0xe0, 0xf0, 0x75);
    const got: number[] = [];
    while (t.status() & 1) got.push(t.data());
    expect(got).toEqual([0x1e, 0x9e, 0xe0, 0x48, 0xe0, 0xc8]);
  });

  it('translates keyboard replies too (identify answers AB 41)', () => {
    const t = setup();
    t.cmd(0x60);
    t.put(0x41);
    t.keyboard.send(0xfa, 0xab, 0x83);
    expect([t.data(), t.data(), t.data()]).toEqual([0xfa, 0xab, 0x41]);
  });

  it('passes bytes untranslated when the translate bit is clear', () => {
    const t = setup();
    t.keyboard.send(0xf0, 0x1c);
    expect([t.data(), t.data()]).toEqual([0xf0, 0x1c]);
  });

  it('writes the keyboard and aux output buffers with 0xD2/0xD3', () => {
    const t = setup();
    t.cmd(0xd2);
    t.put(0x42);
    expect(t.status() & 0x21).toBe(0x01);
    expect(t.irq1.level).toBe(true);
    expect(t.data()).toBe(0x42);
    t.cmd(0xd3);
    t.put(0x43);
    expect(t.status() & 0x21).toBe(0x21);
    expect(t.irq12.level).toBe(true);
    expect(t.data()).toBe(0x43);
  });

  it('drives A20 through the output port and 0xDD/0xDF', () => {
    const t = setup();
    t.cmd(0xd1);
    t.put(0xdd);
    expect(t.a20).toEqual([false]);
    t.cmd(0xd0);
    expect(t.data() & 0x02).toBe(0);
    t.cmd(0xdf);
    expect(t.a20).toEqual([false, true]);
    t.cmd(0xd0);
    expect(t.data() & 0x03).toBe(0x03);
    t.cmd(0xdd);
    expect(t.a20).toEqual([false, true, false]);
    expect(t.resets()).toBe(0);
  });

  it('reports the machine A20 state in the output port when given', () => {
    const io = new IoBus();
    let a20 = true;
    new I8042({ io, irqKeyboard: new IrqLine('1'), irqMouse: new IrqLine('12'), setA20: (on) => (a20 = on), requestReset: () => {}, a20Enabled: () => a20 });
    a20 = false; // changed elsewhere (port 0x92)
    io.write(0x64, 1, 0xd0);
    expect(io.read(0x60, 1) & 0x02).toBe(0);
  });

  it('shows the output-buffer-full bits in the output port', () => {
    const t = setup();
    t.cmd(0xd0);
    expect(t.data() & 0x30).toBe(0);
    t.keyboard.send(0x1c);
    t.cmd(0xd0); // sampled while the keyboard byte is waiting; the reply queues behind it
    expect(t.data()).toBe(0x1c);
    expect(t.data() & 0x30).toBe(0x10);
  });

  it('resets the CPU through output port bit 0 and pulse commands', () => {
    const t = setup();
    t.cmd(0xd1);
    t.put(0xfe);
    expect(t.resets()).toBe(1);
    t.cmd(0xfe);
    expect(t.resets()).toBe(2);
    t.cmd(0xf0);
    expect(t.resets()).toBe(3);
    t.cmd(0xff); // pulses nothing
    t.cmd(0xfd); // pulses A20 only
    expect(t.resets()).toBe(3);
  });

  it('reads the input port and test inputs', () => {
    const t = setup();
    t.cmd(0xc0);
    expect(t.data() & 0x80).toBe(0x80);
    t.cmd(0xa4);
    expect(t.data()).toBe(0xf1);
  });

  it('swallows password bytes up to the terminating zero', () => {
    const t = setup();
    t.cmd(0xa5);
    t.put(0x31);
    t.put(0x32);
    t.put(0x00);
    expect(t.keyboard.received).toEqual([]);
    t.put(0xf4);
    expect(t.keyboard.received).toEqual([0xf4]);
  });

  it('times out with 0xFE when no device is plugged in', () => {
    const t = setup({ keyboard: false, mouse: false });
    t.put(0xff);
    expect(t.status() & 0x41).toBe(0x41);
    expect(t.data()).toBe(0xfe);
    t.cmd(0xd4);
    t.put(0xff);
    expect(t.status() & 0x61).toBe(0x61);
    expect(t.irq12.level).toBe(true);
    expect(t.data()).toBe(0xfe);
  });

  it('writing to the keyboard re-enables its interface', () => {
    const t = setup();
    t.cmd(0xad);
    t.put(0xf4);
    expect(t.data()).toBe(0xfa);
    t.cmd(0x20);
    expect(t.data() & 0x10).toBe(0);
  });

  it('ignores unknown commands without disturbing state', () => {
    const t = setup();
    for (const c of [0x00, 0x10, 0xa0, 0xb5, 0xc7, 0xe5]) t.cmd(c);
    expect(t.status() & 1).toBe(0);
    t.cmd(0x20);
    expect(t.data()).toBe(0x03);
  });

  it('a command on 0x64 cancels a pending argument', () => {
    const t = setup();
    t.cmd(0x60);
    t.cmd(0xae);
    t.put(0xee);
    expect(t.keyboard.received).toEqual([0xee]);
  });

  it('treats wide accesses and unclaimed neighbours as a PC does', () => {
    const t = setup();
    expect(t.io.read(0x61, 1)).toBe(0xff);
    expect(t.io.read(0x65, 1)).toBe(0xff);
  });

  it('saves and restores its state, refusing other versions', () => {
    const t = setup();
    t.cmd(0x60);
    t.put(0x47);
    t.keyboard.send(0x1c);
    const saved = t.kbc.saveState();
    t.kbc.reset();
    expect(t.status() & 1).toBe(0);
    t.kbc.loadState(saved);
    expect(t.status() & 1).toBe(1);
    expect(t.irq1.level).toBe(true);
    expect(t.data()).toBe(0x1e);
    t.cmd(0x20);
    expect(t.data()).toBe(0x47);
    expect(() => t.kbc.loadState({ ...saved, version: 2 })).toThrow(StateVersionError);
  });
});
