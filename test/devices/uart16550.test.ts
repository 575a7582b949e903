import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { StateVersionError } from '../../src/bus/device.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import { Uart16550 } from '../../src/devices/uart16550.ts';

const BASE = 0x3f8;
const THR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

function setup() {
  const io = new IoBus();
  const clock = new EventClock();
  const irq = new IrqLine('irq4');
  const sent: number[] = [];
  const uart = new Uart16550({ io, clock, irq, base: BASE, name: 'com1', onTransmit: (b) => sent.push(b) });
  const r = (reg: number) => io.read(BASE + reg, 1);
  const w = (reg: number, v: number) => io.write(BASE + reg, 1, v);
  /** 115200 8N1 (divisor 1), OUT2 on so the interrupt reaches the line. */
  const program = (divisor = 1) => {
    w(LCR, 0x80);
    w(0, divisor & 0xff);
    w(1, divisor >> 8);
    w(LCR, 0x03);
    w(MCR, 0x0b);
  };
  return { io, clock, irq, sent, uart, r, w, program };
}

/** One 8N1 frame (10 bits) at divisor d, in ns. */
const frameNs = (d: number) => (10 * d * 16 * 1e9) / 1_843_200;

describe('Uart16550', () => {
  it('powers up with the documented register values', () => {
    const t = setup();
    expect(t.r(IER)).toBe(0);
    expect(t.r(IIR)).toBe(0x01);
    expect(t.r(LCR)).toBe(0);
    expect(t.r(MCR)).toBe(0);
    expect(t.r(LSR)).toBe(0x60);
    expect(t.irq.level).toBe(false);
  });

  it('reaches the divisor latches through DLAB and keeps IER separate', () => {
    const t = setup();
    t.w(IER, 0x05);
    t.w(LCR, 0x83);
    t.w(0, 0x0c);
    t.w(1, 0x00);
    expect(t.r(0)).toBe(0x0c);
    expect(t.r(1)).toBe(0x00);
    t.w(LCR, 0x03);
    expect(t.r(IER)).toBe(0x05);
    expect(t.r(LCR)).toBe(0x03);
  });

  it('masks IER to four bits and MCR to five; scratch holds any byte', () => {
    const t = setup();
    t.w(IER, 0xff);
    expect(t.r(IER)).toBe(0x0f);
    t.w(MCR, 0xff);
    expect(t.r(MCR)).toBe(0x1f);
    t.w(SCR, 0xa5);
    expect(t.r(SCR)).toBe(0xa5);
  });

  it('transmits at once but keeps THRE/TEMT busy for the frame time', () => {
    const t = setup();
    t.program(12); // 9600 baud
    t.w(THR, 0x41);
    expect(t.sent).toEqual([0x41]);
    // The byte moved straight to the shift register: THR empty, transmitter busy.
    expect(t.r(LSR) & 0x60).toBe(0x20);
    t.w(THR, 0x42);
    expect(t.r(LSR) & 0x60).toBe(0x00);
    t.clock.advanceBy(frameNs(12) - 1);
    expect(t.r(LSR) & 0x60).toBe(0x00);
    t.clock.advanceBy(1);
    expect(t.r(LSR) & 0x60).toBe(0x20);
    t.clock.advanceBy(frameNs(12));
    expect(t.r(LSR) & 0x60).toBe(0x60);
    expect(t.sent).toEqual([0x41, 0x42]);
  });

  it('frame time follows word length, parity and stop bits', () => {
    const t = setup();
    t.w(LCR, 0x80);
    t.w(0, 1);
    t.w(LCR, 0x1f); // 8 data, even parity, 2 stop: 12 bits
    t.w(THR, 0);
    t.clock.advanceBy(frameNs(1) * 1.1);
    expect(t.r(LSR) & 0x40).toBe(0);
    t.clock.advanceBy(frameNs(1) * 0.1 + 1);
    expect(t.r(LSR) & 0x40).toBe(0x40);
  });

  it('raises the THRE interrupt when enabled with THR empty; reading IIR clears it', () => {
    const t = setup();
    t.program();
    t.w(IER, 0x02);
    expect(t.irq.level).toBe(true);
    expect(t.r(IIR)).toBe(0x02);
    expect(t.irq.level).toBe(false);
    expect(t.r(IIR)).toBe(0x01);
    // Rewriting IER with ETBEI already set does not re-arm; toggling it does.
    t.w(IER, 0x02);
    expect(t.r(IIR)).toBe(0x01);
    t.w(IER, 0x00);
    t.w(IER, 0x02);
    expect(t.r(IIR)).toBe(0x02);
  });

  it('re-raises THRE when the FIFO drains and clears it on a THR write', () => {
    const t = setup();
    t.program();
    t.w(FCR, 0x01);
    t.w(IER, 0x02);
    expect(t.r(IIR)).toBe(0xc2);
    for (const b of [1, 2, 3]) t.w(THR, b);
    expect(t.irq.level).toBe(false);
    t.clock.advanceBy(frameNs(1)); // byte 2 to the shift register, byte 3 waits
    expect(t.irq.level).toBe(false);
    t.clock.advanceBy(frameNs(1)); // byte 3 to the shift register: FIFO empty
    expect(t.irq.level).toBe(true);
    t.w(THR, 4);
    expect(t.irq.level).toBe(false);
  });

  it('gates the interrupt line with OUT2, as on a PC', () => {
    const t = setup();
    t.program();
    t.w(MCR, 0x03);
    t.w(IER, 0x02);
    expect(t.r(IIR) & 0x0f).toBe(0x02); // pending inside the UART...
    t.w(IER, 0);
    t.w(IER, 0x02);
    expect(t.irq.level).toBe(false); // ...but not on the bus
    t.w(MCR, 0x0b);
    expect(t.irq.level).toBe(true);
  });

  it('receives host bytes: DR, data interrupt, and RBR reads', () => {
    const t = setup();
    t.program();
    t.w(IER, 0x01);
    t.uart.receive([0x61, 0x62]);
    expect(t.r(LSR) & 1).toBe(1);
    expect(t.irq.level).toBe(true);
    expect(t.r(IIR)).toBe(0x04);
    expect(t.r(THR)).toBe(0x61);
    // 16450 mode holds one byte; the next one enters as soon as RBR is read.
    expect(t.irq.level).toBe(true);
    expect(t.r(THR)).toBe(0x62);
    expect(t.r(LSR) & 1).toBe(0);
    expect(t.irq.level).toBe(false);
    expect(t.r(THR)).toBe(0x62); // stale RBR
  });

  it('keeps pasted text beyond the FIFO in the host queue and loses nothing', () => {
    const t = setup();
    t.program();
    t.w(FCR, 0x07);
    const text = Array.from({ length: 100 }, (_, i) => 0x20 + (i % 90));
    t.uart.receive(new Uint8Array(text));
    expect(t.uart.pendingInput).toBe(84);
    const got: number[] = [];
    while (t.r(LSR) & 1) got.push(t.r(THR));
    expect(got).toEqual(text);
    expect(t.r(LSR) & 0x02).toBe(0); // never overrun
  });

  it('interrupts at the FIFO trigger level, else after the character timeout', () => {
    const t = setup();
    t.program();
    t.w(FCR, 0x81); // trigger 8
    t.w(IER, 0x01);
    t.uart.receive([1, 2, 3]);
    expect(t.irq.level).toBe(false);
    t.clock.advanceBy(4 * frameNs(1) - 1);
    expect(t.irq.level).toBe(false);
    t.clock.advanceBy(1);
    expect(t.irq.level).toBe(true);
    expect(t.r(IIR)).toBe(0xcc);
    expect(t.r(THR)).toBe(1); // reading clears the timeout and restarts it
    expect(t.irq.level).toBe(false);
    t.uart.receive([4, 5, 6, 7, 8, 9]);
    expect(t.r(IIR)).toBe(0xc4); // 8 bytes: trigger reached
  });

  it('honours each trigger level', () => {
    for (const [bits, level] of [[0x00, 1], [0x40, 4], [0x80, 8], [0xc0, 14]]) {
      const t = setup();
      t.program();
      t.w(FCR, bits | 1);
      t.w(IER, 0x01);
      t.uart.receive(new Array(level - 1).fill(0x55));
      expect(t.r(IIR) & 0x0f, `level ${level}`).not.toBe(0x04);
      t.uart.receive([0x55]);
      expect(t.r(IIR) & 0x0f, `level ${level}`).toBe(0x04);
    }
  });

  it('shows FIFO state in IIR bits 6-7 and resets the FIFOs through FCR', () => {
    const t = setup();
    t.program(12);
    t.w(FCR, 0x01);
    expect(t.r(IIR) & 0xc0).toBe(0xc0);
    t.uart.receive([1, 2, 3]);
    t.w(THR, 9);
    t.w(THR, 10);
    expect(t.r(LSR) & 0x21).toBe(0x01);
    t.w(FCR, 0x03);
    expect(t.r(LSR) & 0x01).toBe(0);
    t.w(FCR, 0x05);
    expect(t.r(LSR) & 0x60).toBe(0x20); // FIFO empty; the shift register still busy
    t.w(FCR, 0x00);
    expect(t.r(IIR) & 0xc0).toBe(0);
  });

  it('loopback wires TX to RX after a frame and does not transmit outside', () => {
    const t = setup();
    t.program();
    t.w(MCR, 0x1b);
    t.w(THR, 0x5a);
    expect(t.sent).toEqual([]);
    expect(t.r(LSR) & 1).toBe(0);
    t.clock.advanceBy(frameNs(1));
    expect(t.r(LSR) & 1).toBe(1);
    expect(t.r(THR)).toBe(0x5a);
  });

  it('loopback wires MCR outputs to MSR inputs with delta bits', () => {
    const t = setup();
    t.w(MCR, 0x10);
    t.r(MSR);
    t.w(MCR, 0x1a); // RTS + OUT2
    expect(t.r(MSR)).toBe(0x99);
    t.w(MCR, 0x15); // DTR + OUT1
    expect(t.r(MSR)).toBe(0x6b);
    t.w(MCR, 0x10); // RI falls: trailing edge
    expect(t.r(MSR) & 0x0f).toBe(0x06);
    expect(t.r(MSR)).toBe(0x00);
  });

  it('keeps the interrupt line low in loopback', () => {
    const t = setup();
    t.program();
    t.w(MCR, 0x1b);
    t.w(IER, 0x02);
    expect(t.r(IIR) & 0x0f).toBe(0x02);
    t.w(IER, 0);
    t.w(IER, 0x02);
    expect(t.irq.level).toBe(false);
  });

  it('reports modem status changes from the host with an interrupt', () => {
    const t = setup();
    t.program();
    expect(t.r(MSR)).toBe(0xb0);
    t.w(IER, 0x08);
    expect(t.irq.level).toBe(false);
    t.uart.setModemInputs({ dcd: false, ri: true });
    expect(t.irq.level).toBe(true);
    expect(t.r(IIR)).toBe(0x00);
    expect(t.r(MSR)).toBe(0x78);
    expect(t.irq.level).toBe(false);
  });

  it('sets overrun when loopback traffic is not read, and reports it by priority', () => {
    const t = setup();
    t.program();
    t.w(MCR, 0x1b);
    t.w(THR, 1);
    t.clock.advanceBy(frameNs(1));
    t.w(THR, 2);
    t.clock.advanceBy(frameNs(1));
    t.w(IER, 0x07);
    expect(t.r(IIR)).toBe(0x06);
    const lsr = t.r(LSR);
    expect(lsr & 0x03).toBe(0x03);
    expect(t.r(LSR) & 0x02).toBe(0); // cleared by the read
    expect(t.r(IIR)).toBe(0x04);
    expect(t.r(THR)).toBe(2); // 16450 mode: the new byte overwrote RBR
  });

  it('receives a break in loopback and from the host', () => {
    const t = setup();
    t.program();
    t.w(MCR, 0x1b);
    t.w(LCR, 0x43);
    expect(t.r(LSR) & 0x19).toBe(0x19);
    expect(t.r(THR)).toBe(0);
    t.w(LCR, 0x03);
    t.w(MCR, 0x0b);
    t.w(FCR, 0x01);
    t.uart.receive([0x41]);
    t.uart.receiveBreak();
    expect(t.r(LSR) & 0x90).toBe(0x80); // error waiting in the FIFO, not yet at the top
    expect(t.r(THR)).toBe(0x41);
    expect(t.r(LSR) & 0x10).toBe(0x10);
  });

  it('holds host input during loopback and delivers it afterwards', () => {
    const t = setup();
    t.program();
    t.w(MCR, 0x1b);
    t.uart.receive([0x31]);
    expect(t.r(LSR) & 1).toBe(0);
    t.w(MCR, 0x0b);
    expect(t.r(THR)).toBe(0x31);
  });

  it('reads open bus outside its eight ports and answers COM2 at its own base', () => {
    const t = setup();
    expect(t.io.read(BASE + 8, 1)).toBe(0xff);
    const com2 = new Uart16550({ io: t.io, clock: t.clock, irq: new IrqLine('irq3'), base: 0x2f8, name: 'com2', onTransmit: () => {} });
    t.io.write(0x2ff, 1, 0x42);
    expect(t.io.read(0x2ff, 1)).toBe(0x42);
    expect(t.r(SCR)).toBe(0);
    expect(com2.base).toBe(0x2f8);
  });

  it('survives nonsense: divisor 0, undefined writes, wide accesses', () => {
    const t = setup();
    t.w(LCR, 0x80);
    t.w(0, 0);
    t.w(1, 0);
    t.w(LCR, 0x03);
    t.w(LSR, 0xff);
    t.w(MSR, 0xff);
    t.w(THR, 0x33);
    t.clock.advanceBy(1e6);
    expect(t.r(LSR) & 0x60).toBe(0x60);
    expect(t.io.read(BASE, 4)).toBeTypeOf('number');
    t.io.write(BASE, 2, 0x4142);
    expect(t.sent).toEqual([0x33, 0x42]);
  });

  it('saves and restores registers, FIFOs and a transmission in flight', () => {
    const t = setup();
    t.program(12);
    t.w(FCR, 0x01);
    t.w(IER, 0x03);
    t.uart.receive([7, 8]);
    t.w(THR, 1);
    t.w(THR, 2);
    const saved = t.uart.saveState();
    t.uart.reset();
    expect(t.r(LSR) & 0x61).toBe(0x60);
    t.uart.loadState(saved);
    expect(t.r(IER)).toBe(0x03);
    expect(t.r(LSR) & 0x61).toBe(0x01);
    t.clock.advanceBy(2 * frameNs(12));
    expect(t.r(LSR) & 0x60).toBe(0x60);
    expect([t.r(THR), t.r(THR)]).toEqual([7, 8]);
    expect(() => t.uart.loadState({ version: 3 })).toThrow(StateVersionError);
  });
});
