import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { StateVersionError } from '../../src/bus/device.ts';
import { DualPic8259 } from '../../src/devices/pic8259.ts';

function setup(opts: { icw4?: number; init?: boolean } = {}) {
  const io = new IoBus();
  const intr = new IrqLine('intr');
  const pic = new DualPic8259({ io, intr });
  const lines: IrqLine[] = [];
  for (let i = 0; i < 16; i++) {
    lines.push(new IrqLine(`irq${i}`));
    pic.connect(i, lines[i]);
  }
  if (opts.init !== false) {
    const icw4 = opts.icw4 ?? 0x01;
    // The BIOS sequence: ICW1 edge/cascade/ICW4, ICW2 vector base, ICW3 wiring, ICW4 x86 mode.
    io.write(0x20, 1, 0x11);
    io.write(0x21, 1, 0x08);
    io.write(0x21, 1, 0x04);
    io.write(0x21, 1, icw4);
    io.write(0xa0, 1, 0x11);
    io.write(0xa1, 1, 0x70);
    io.write(0xa1, 1, 0x02);
    io.write(0xa1, 1, icw4);
  }
  const eoi = (port: number) => io.write(port, 1, 0x20);
  const readIsr = (port: number) => {
    io.write(port, 1, 0x0b);
    const v = io.read(port, 1);
    io.write(port, 1, 0x0a);
    return v;
  };
  return { io, intr, pic, lines, eoi, readIsr };
}

describe('DualPic8259', () => {
  it('delivers a master edge interrupt with the ICW2 vector and sets ISR', () => {
    const { io, intr, pic, lines, readIsr } = setup();
    expect(intr.level).toBe(false);
    lines[1].raise();
    expect(intr.level).toBe(true);
    expect(pic.asserted).toBe(true);
    expect(io.read(0x20, 1)).toBe(0x02); // IRR
    expect(pic.acknowledge()).toBe(0x09);
    expect(readIsr(0x20)).toBe(0x02);
    expect(io.read(0x20, 1)).toBe(0x00); // IRR consumed
    expect(intr.level).toBe(false);
  });

  it('latches an edge that has already fallen (a pulse is not lost)', () => {
    const { intr, pic, lines } = setup();
    lines[0].pulse();
    expect(intr.level).toBe(true);
    expect(pic.acknowledge()).toBe(0x08);
  });

  it('needs a new rising edge for an edge-triggered line that stays high', () => {
    const { intr, pic, lines, eoi } = setup();
    lines[3].raise();
    expect(pic.acknowledge()).toBe(0x0b);
    eoi(0x20);
    expect(intr.level).toBe(false);
    lines[3].lower();
    lines[3].raise();
    expect(intr.level).toBe(true);
  });

  it('routes slave interrupts through the cascade on IR2', () => {
    const { intr, pic, lines, readIsr, eoi } = setup();
    lines[14].raise();
    expect(intr.level).toBe(true);
    expect(pic.acknowledge()).toBe(0x76);
    expect(readIsr(0x20)).toBe(0x04);
    expect(readIsr(0xa0)).toBe(0x40);
    eoi(0xa0);
    eoi(0x20);
    expect(readIsr(0x20)).toBe(0);
    expect(readIsr(0xa0)).toBe(0);
  });

  it('resolves priority: lower IR number first, in-service blocks lower priorities', () => {
    const { intr, pic, lines, eoi } = setup();
    lines[4].raise();
    lines[1].raise();
    expect(pic.acknowledge()).toBe(0x09);
    // IR4 is lower priority than the in-service IR1: INTR stays low until EOI.
    expect(intr.level).toBe(false);
    lines[0].raise(); // higher priority nests
    expect(intr.level).toBe(true);
    expect(pic.acknowledge()).toBe(0x08);
    eoi(0x20); // non-specific EOI clears IR0 (highest in service)
    expect(intr.level).toBe(false);
    eoi(0x20); // clears IR1
    expect(intr.level).toBe(true);
    expect(pic.acknowledge()).toBe(0x0c);
  });

  it('masks with OCW1 and reads IMR back', () => {
    const { io, intr, pic, lines } = setup();
    io.write(0x21, 1, 0xfb);
    expect(io.read(0x21, 1)).toBe(0xfb);
    lines[1].raise();
    expect(intr.level).toBe(false);
    expect(io.read(0x20, 1) & 0x02).toBe(0x02); // still requested in IRR
    io.write(0x21, 1, 0x00);
    expect(intr.level).toBe(true);
    expect(pic.acknowledge()).toBe(0x09);
  });

  it('masking the slave cascade input hides slave requests', () => {
    const { io, intr, lines } = setup();
    io.write(0x21, 1, 0x04);
    lines[8].raise();
    expect(intr.level).toBe(false);
    io.write(0x21, 1, 0x00);
    expect(intr.level).toBe(true);
  });

  it('answers a vanished request with the spurious IR7 vector and leaves ISR clear', () => {
    const { io, intr, pic, lines, readIsr } = setup();
    lines[5].raise();
    expect(intr.level).toBe(true);
    io.write(0x21, 1, 0x20); // masked after INTR was sampled
    expect(pic.acknowledge()).toBe(0x0f);
    expect(readIsr(0x20)).toBe(0);
  });

  it('gives spurious IRQ15 when the slave request goes away after the master latched IR2', () => {
    const { io, intr, pic, lines, readIsr, eoi } = setup();
    lines[10].raise();
    io.write(0xa1, 1, 0x04); // masked at the slave between INTR and INTA
    expect(intr.level).toBe(true); // the master's IR2 edge is latched
    expect(pic.acknowledge()).toBe(0x77);
    expect(readIsr(0xa0)).toBe(0);
    expect(readIsr(0x20)).toBe(0x04); // the master saw a real IR2: the OS must EOI it
    eoi(0x20);
    expect(readIsr(0x20)).toBe(0);
  });

  it('re-latches the cascade when the slave still requests after INTA (automatic EOI)', () => {
    const { intr, pic, lines } = setup({ icw4: 0x03 });
    lines[9].raise();
    lines[10].raise();
    expect(pic.acknowledge()).toBe(0x71);
    expect(intr.level).toBe(true);
    expect(pic.acknowledge()).toBe(0x72);
    expect(intr.level).toBe(false);
  });

  it('drops a level-triggered request when its line falls (ELCR)', () => {
    const { io, intr, lines } = setup();
    io.write(0x4d0, 1, 0x20); // IRQ5 level
    expect(io.read(0x4d0, 1)).toBe(0x20);
    lines[5].raise();
    expect(intr.level).toBe(true);
    lines[5].lower();
    expect(intr.level).toBe(false);
    expect(io.read(0x20, 1) & 0x20).toBe(0);
  });

  it('a level-triggered slave request that drops leaves a latched IR2: spurious IRQ15', () => {
    const { io, intr, pic, lines } = setup();
    io.write(0x4d1, 1, 0x08); // IRQ11 level
    lines[11].raise();
    lines[11].lower();
    expect(io.read(0xa0, 1) & 0x08).toBe(0);
    expect(intr.level).toBe(true);
    expect(pic.acknowledge()).toBe(0x77);
  });

  it('re-requests a level-triggered line still high after EOI', () => {
    const { io, intr, pic, lines, eoi } = setup();
    io.write(0x4d1, 1, 0x08);
    lines[11].raise();
    expect(pic.acknowledge()).toBe(0x73);
    expect(intr.level).toBe(false);
    eoi(0xa0);
    eoi(0x20);
    expect(intr.level).toBe(true);
    expect(pic.acknowledge()).toBe(0x73);
  });

  it('keeps ELCR bits for IRQ 0, 1, 2, 8 and 13 read-only zero', () => {
    const { io } = setup();
    io.write(0x4d0, 1, 0xff);
    io.write(0x4d1, 1, 0xff);
    expect(io.read(0x4d0, 1)).toBe(0xf8);
    expect(io.read(0x4d1, 1)).toBe(0xde);
    expect(io.read(0x4d0, 2)).toBe(0xdef8);
  });

  it('automatic EOI leaves ISR clear', () => {
    const { intr, pic, lines, readIsr } = setup({ icw4: 0x03 });
    lines[3].raise();
    lines[4].raise();
    expect(pic.acknowledge()).toBe(0x0b);
    expect(readIsr(0x20)).toBe(0);
    expect(intr.level).toBe(true); // IR4 not blocked
    expect(pic.acknowledge()).toBe(0x0c);
  });

  it('rotates priority on specific EOI and with set-priority', () => {
    const { io, pic, lines } = setup();
    lines[1].raise();
    expect(pic.acknowledge()).toBe(0x09);
    io.write(0x20, 1, 0xe1); // rotate on specific EOI for IR1: IR1 becomes lowest, IR2 highest
    lines[0].raise();
    lines[3].raise();
    expect(pic.acknowledge()).toBe(0x0b); // IR3 beats IR0 now
    io.write(0x20, 1, 0x63); // specific EOI IR3
    io.write(0x20, 1, 0xc7); // set priority: IR7 lowest, IR0 highest again
    lines[5].raise();
    expect(pic.acknowledge()).toBe(0x08);
  });

  it('rotates in automatic EOI mode', () => {
    const { io, pic, lines } = setup({ icw4: 0x03 });
    io.write(0x20, 1, 0x80); // set rotate in AEOI
    lines[0].raise();
    expect(pic.acknowledge()).toBe(0x08); // IR0 now lowest
    lines[0].lower();
    lines[0].raise();
    lines[6].raise();
    expect(pic.acknowledge()).toBe(0x0e);
  });

  it('rotates on non-specific EOI', () => {
    const { io, pic, lines } = setup();
    lines[2 + 1].raise();
    expect(pic.acknowledge()).toBe(0x0b);
    io.write(0x20, 1, 0xa0); // IR3 becomes lowest
    lines[3].lower();
    lines[3].raise();
    lines[7].raise();
    expect(pic.acknowledge()).toBe(0x0f);
  });

  it('poll mode returns 0x80 | level and acknowledges', () => {
    const { io, intr, lines, readIsr } = setup();
    io.write(0x20, 1, 0x0c); // OCW3 poll
    expect(io.read(0x20, 1)).toBe(0x00); // nothing pending
    lines[6].raise();
    io.write(0x20, 1, 0x0c);
    expect(io.read(0x20, 1)).toBe(0x86);
    expect(readIsr(0x20)).toBe(0x40);
    expect(intr.level).toBe(false);
    // Poll mode is one-shot: the next read is IRR again.
    lines[4].raise();
    expect(io.read(0x20, 1)).toBe(0x10);
  });

  it('special mask mode lets lower priorities through a masked in-service level', () => {
    const { io, intr, pic, lines } = setup();
    lines[1].raise();
    expect(pic.acknowledge()).toBe(0x09);
    lines[5].raise();
    expect(intr.level).toBe(false);
    io.write(0x21, 1, 0x02); // mask IR1
    expect(intr.level).toBe(false); // plain mask does not unblock
    io.write(0x20, 1, 0x68); // set special mask
    expect(intr.level).toBe(true);
    expect(pic.acknowledge()).toBe(0x0d);
    io.write(0x20, 1, 0x48); // reset special mask
    io.write(0x20, 1, 0x65); // specific EOI IR5
    lines[6].raise();
    expect(intr.level).toBe(false); // IR1 blocks again
  });

  it('special fully nested mode lets a higher slave request nest inside the cascade', () => {
    const { intr, pic, lines } = setup({ icw4: 0x11 });
    lines[12].raise();
    expect(pic.acknowledge()).toBe(0x74);
    lines[9].raise();
    expect(intr.level).toBe(true);
    expect(pic.acknowledge()).toBe(0x71);
  });

  it('without special fully nested mode a slave request waits for the master EOI', () => {
    const { intr, pic, lines, eoi } = setup();
    lines[12].raise();
    expect(pic.acknowledge()).toBe(0x74);
    lines[9].raise();
    expect(intr.level).toBe(false);
    eoi(0x20);
    expect(intr.level).toBe(true);
  });

  it('ICW1 clears IMR, ISR and pending edges; a line held high must rise again', () => {
    const { io, intr, pic, lines, readIsr } = setup();
    io.write(0x21, 1, 0xff);
    lines[1].raise();
    lines[3].raise();
    io.write(0x21, 1, 0xf7);
    expect(pic.acknowledge()).toBe(0x0b);
    io.write(0x20, 1, 0x11);
    io.write(0x21, 1, 0x20);
    io.write(0x21, 1, 0x04);
    io.write(0x21, 1, 0x01);
    expect(io.read(0x21, 1)).toBe(0);
    expect(readIsr(0x20)).toBe(0);
    expect(intr.level).toBe(false);
    lines[1].lower();
    lines[1].raise();
    expect(pic.acknowledge()).toBe(0x21);
  });

  it('skips ICW3 in single mode and ICW4 when IC4 is clear', () => {
    const { io, pic, lines } = setup({ init: false });
    io.write(0x20, 1, 0x12); // single, no ICW4
    io.write(0x21, 1, 0x40); // ICW2
    io.write(0x21, 1, 0xfd); // this is OCW1 already
    expect(io.read(0x21, 1)).toBe(0xfd);
    lines[1].raise();
    expect(pic.acknowledge()).toBe(0x41);
  });

  it('reads the slave IRR and ISR through OCW3 and survives nonsense writes', () => {
    const { io, lines } = setup();
    lines[15].raise();
    expect(io.read(0xa0, 1)).toBe(0x80);
    expect(io.read(0x20, 1) & 0x04).toBe(0x04); // cascade input shows in master IRR
    for (let v = 0; v < 256; v++) {
      io.write(0x20, 1, v & ~0x10);
      io.write(0x21, 4, 0xdeadbeef);
      io.write(0x4d0, 2, v * 257);
    }
    expect(() => io.read(0x20, 4)).not.toThrow();
    expect(io.read(0x22, 1)).toBe(0xff); // not ours
  });

  it('ignores input numbers outside 0-15 and the cascade input 2', () => {
    const { intr, pic } = setup();
    pic.setInput(2, true);
    pic.setInput(16, true);
    pic.setInput(-1, true);
    pic.setInput(1.5, true);
    expect(intr.level).toBe(false);
  });

  it('saves and restores its state, refusing unknown versions', () => {
    const a = setup();
    a.io.write(0x4d1, 1, 0x08);
    a.io.write(0x21, 1, 0xf0);
    a.lines[1].raise();
    a.lines[11].raise();
    const saved = a.pic.saveState();
    const b = setup({ init: false });
    b.pic.loadState(structuredClone(saved));
    expect(b.io.read(0x21, 1)).toBe(0xf0);
    expect(b.io.read(0x4d1, 1)).toBe(0x08);
    expect(b.intr.level).toBe(true);
    expect(b.pic.acknowledge()).toBe(0x09);
    expect(() => b.pic.loadState({ ...saved, version: 2 })).toThrow(StateVersionError);
    expect(() => b.pic.loadState({ version: 1 })).toThrow(/irr/);
  });

  it('reset returns to the power-on state', () => {
    const { io, intr, pic, lines } = setup();
    io.write(0x4d0, 1, 0x20);
    lines[1].raise();
    expect(intr.level).toBe(true);
    pic.reset();
    expect(intr.level).toBe(false);
    expect(io.read(0x4d0, 1)).toBe(0);
    expect(io.read(0x21, 1)).toBe(0);
  });
});
