import { describe, expect, it } from 'vitest';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { MmioMap } from '../../src/bus/mmio-map.ts';
import { StateVersionError } from '../../src/bus/device.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import {
  DeliveryMode,
  ESR_ILLEGAL_REGISTER,
  ESR_RECEIVE_ILLEGAL_VECTOR,
  ESR_SEND_ILLEGAL_VECTOR,
  type IpiMessage,
  LOCAL_APIC_DEFAULT_BASE,
  LocalApic,
  MIN_TIMER_INTERRUPT_NS,
  apicDestinations,
  deliverApicMessage,
} from '../../src/devices/local-apic.ts';

const ID = 0x20;
const VERSION = 0x30;
const TPR = 0x80;
const APR = 0x90;
const PPR = 0xa0;
const EOI = 0xb0;
const LDR = 0xd0;
const DFR = 0xe0;
const SVR = 0xf0;
const ISR = 0x100;
const TMR = 0x180;
const IRR = 0x200;
const ESR = 0x280;
const ICR_LOW = 0x300;
const ICR_HIGH = 0x310;
const LVT_TIMER = 0x320;
const LVT_LINT0 = 0x350;
const LVT_LINT1 = 0x360;
const LVT_ERROR = 0x370;
const INITIAL_COUNT = 0x380;
const CURRENT_COUNT = 0x390;
const DIVIDE = 0x3e0;

/** One CPU's view: the machine maps the APIC of the running CPU at 0xFEE00000. */
function setup(opts: { count?: number; bsp?: boolean } = {}) {
  const clock = new EventClock();
  const count = opts.count ?? 1;
  const apics: LocalApic[] = [];
  const sent: IpiMessage[] = [];
  const events: string[] = [];
  const intrs: IrqLine[] = [];
  const extVectors: number[] = [];
  for (let i = 0; i < count; i++) {
    const intr = new IrqLine(`intr${i}`);
    intrs.push(intr);
    apics.push(
      new LocalApic({
        clock,
        id: i,
        bsp: opts.bsp ?? i === 0,
        intr,
        send: (m) => {
          sent.push(m);
          deliverApicMessage(m, apics, apics[i]);
        },
        onInit: () => events.push(`init${i}`),
        onStartup: (v) => events.push(`sipi${i}:${v.toString(16)}`),
        onNmi: () => events.push(`nmi${i}`),
        onSmi: () => events.push(`smi${i}`),
        onLevelEoi: (v) => events.push(`eoi${i}:${v.toString(16)}`),
        externalAcknowledge: () => extVectors.shift() ?? 0x0f,
      }),
    );
  }
  const maps = apics.map((a) => {
    const mmio = new MmioMap();
    mmio.register({ ...a.mmio });
    return mmio;
  });
  const on = (cpu: number) => ({
    read: (off: number) => maps[cpu].read(LOCAL_APIC_DEFAULT_BASE + off, 4),
    write: (off: number, v: number) => maps[cpu].write(LOCAL_APIC_DEFAULT_BASE + off, 4, v),
  });
  const { read, write } = on(0);
  const enable = (cpu = 0) => on(cpu).write(SVR, 0x1ff);
  const fixed = (vector: number, trigger: 'edge' | 'level' = 'edge'): IpiMessage => ({
    vector, mode: DeliveryMode.Fixed, destination: 0, destMode: 'physical', level: true, trigger, shorthand: 'none',
  });
  const esr = (cpu = 0) => {
    on(cpu).write(ESR, 0);
    return on(cpu).read(ESR);
  };
  return { clock, apic: apics[0], apics, sent, events, intrs, extVectors, maps, on, read, write, enable, fixed, esr };
}

describe('LocalApic registers', () => {
  it('powers on with the documented values', () => {
    const { read, on } = setup({ count: 2 });
    expect(read(ID)).toBe(0);
    expect(on(1).read(ID)).toBe(0x01000000);
    expect(read(VERSION)).toBe(0x00050014);
    expect(read(SVR)).toBe(0xff);
    expect(read(DFR)).toBe(0xffffffff);
    expect(read(TPR)).toBe(0);
    expect(read(LVT_TIMER)).toBe(0x10000);
    expect(read(LVT_ERROR)).toBe(0x10000);
    // Virtual wire on the bootstrap processor only.
    expect(read(LVT_LINT0)).toBe(0x700);
    expect(on(1).read(LVT_LINT0)).toBe(0x10000);
    expect(read(LVT_LINT1)).toBe(0x10000);
  });

  it('keeps only the writable bits', () => {
    const { read, write, enable } = setup();
    enable();
    write(ID, 0xffffffff);
    expect(read(ID)).toBe(0xff000000);
    write(VERSION, 0);
    expect(read(VERSION)).toBe(0x00050014);
    write(LDR, 0x12345678);
    expect(read(LDR)).toBe(0x12000000);
    write(DFR, 0);
    expect(read(DFR)).toBe(0x0fffffff);
    write(SVR, 0xffffffff);
    expect(read(SVR)).toBe(0x3ff);
    write(LVT_TIMER, 0xffffffff);
    expect(read(LVT_TIMER)).toBe(0x300ff);
    write(LVT_LINT0, 0xffffffff);
    expect(read(LVT_LINT0)).toBe(0x1a7ff); // remote IRR and delivery status are read-only
    write(DIVIDE, 0xff);
    expect(read(DIVIDE)).toBe(0xb);
    write(ICR_HIGH, 0xffffffff);
    expect(read(ICR_HIGH)).toBe(0xff000000);
  });

  it('ignores narrow writes, serves narrow reads, and flags unimplemented registers', () => {
    const { maps, read, write, esr, enable } = setup();
    enable();
    maps[0].write(LOCAL_APIC_DEFAULT_BASE + TPR, 1, 0x55);
    expect(read(TPR)).toBe(0);
    write(TPR, 0x1234);
    expect(read(TPR)).toBe(0x34);
    expect(maps[0].read(LOCAL_APIC_DEFAULT_BASE + VERSION + 2, 1)).toBe(0x05);
    expect(maps[0].read(LOCAL_APIC_DEFAULT_BASE + VERSION + 4, 4)).toBe(0); // inside the 16-byte slot
    expect(esr()).toBe(0);
    expect(read(0x400)).toBe(0);
    expect(esr()).toBe(ESR_ILLEGAL_REGISTER);
    write(0x2f0, 1);
    expect(esr()).toBe(ESR_ILLEGAL_REGISTER);
    expect(esr()).toBe(0); // each ESR write latches only the errors since the last one
  });

  it('reads all ones and accepts nothing while hardware-disabled, then comes back at power-on values', () => {
    const { apic, read, write, enable, fixed, intrs } = setup();
    enable();
    write(TPR, 0x20);
    apic.setHardwareEnabled(false);
    expect(read(VERSION)).toBe(0xffffffff);
    write(SVR, 0x1ff);
    apic.accept(fixed(0x40));
    expect(intrs[0].level).toBe(false);
    apic.setHardwareEnabled(true);
    expect(read(SVR)).toBe(0xff);
    expect(read(TPR)).toBe(0);
    expect(read(IRR + 0x20)).toBe(0);
  });
});

describe('LocalApic and the APIC_BASE MSR', () => {
  it('follows the global enable bit of APIC_BASE writes; the BSP flag stays as built', () => {
    const { apics, on, enable } = setup({ count: 2 });
    enable(1);
    apics[1].apicBaseWritten(0xfee00000); // bit 11 clear: hardware-disabled
    expect(on(1).read(ID)).toBe(0xffffffff);
    expect(on(0).read(ID)).toBe(0);
    apics[1].apicBaseWritten(0xfee00900); // enabled again (a write cannot make it the BSP)
    expect(on(1).read(ID)).toBe(0x01000000);
    expect(on(1).read(SVR)).toBe(0xff); // back at power-on values
    expect([apics[0].bootstrapProcessor, apics[1].bootstrapProcessor]).toEqual([true, false]);
  });
});

describe('LocalApic priorities and acknowledge', () => {
  it('delivers the highest vector above the processor priority and moves it into service', () => {
    const { apic, read, write, enable, fixed, intrs } = setup();
    enable();
    apic.accept(fixed(0x31));
    apic.accept(fixed(0x45));
    expect(read(IRR + 0x10)).toBe((1 << 0x11) >>> 0); // vector 0x31 in IRR bits 32-63
    expect(read(IRR + 0x20)).toBe(1 << 5);
    expect(intrs[0].level).toBe(true);
    expect(apic.acknowledge()).toBe(0x45);
    expect(read(ISR + 0x20)).toBe(1 << 5);
    expect(read(IRR + 0x20)).toBe(0);
    expect(read(PPR)).toBe(0x40);
    // 0x31 is a lower class than the one in service: held.
    expect(intrs[0].level).toBe(false);
    // Same class as the one in service: also held.
    apic.accept(fixed(0x41));
    expect(intrs[0].level).toBe(false);
    write(EOI, 0);
    expect(read(ISR + 0x20)).toBe(0);
    expect(intrs[0].level).toBe(true);
    expect(apic.acknowledge()).toBe(0x41);
    write(EOI, 0);
    expect(apic.acknowledge()).toBe(0x31);
    write(EOI, 0);
    expect(intrs[0].level).toBe(false);
    expect(read(PPR)).toBe(0);
  });

  it('masks priority classes at or below the TPR', () => {
    const { apic, read, write, enable, fixed, intrs } = setup();
    enable();
    write(TPR, 0x50);
    apic.accept(fixed(0x45));
    apic.accept(fixed(0x5f));
    expect(intrs[0].level).toBe(false);
    expect(read(PPR)).toBe(0x50);
    expect(read(APR)).toBe(0x50);
    write(TPR, 0x4f);
    expect(intrs[0].level).toBe(true);
    expect(apic.acknowledge()).toBe(0x5f);
    // PPR follows the in-service class when it is above the TPR.
    expect(read(PPR)).toBe(0x50);
    write(TPR, 0x70);
    expect(read(PPR)).toBe(0x70);
  });

  it('answers with the spurious vector when the request went away before INTA', () => {
    const { apic, read, write, enable, fixed, intrs } = setup();
    write(SVR, 0x1ef);
    apic.accept(fixed(0x45));
    expect(intrs[0].level).toBe(true);
    write(TPR, 0xf0);
    expect(apic.acknowledge()).toBe(0xef);
    expect(read(ISR + 0x20)).toBe(0);
    expect(read(IRR + 0x20)).toBe(1 << 5);
    enable();
  });

  it('computes the arbitration priority from TPR, IRR and ISR', () => {
    const { apic, read, write, enable, fixed } = setup();
    enable();
    write(TPR, 0x35);
    expect(read(APR)).toBe(0x35);
    apic.accept(fixed(0x61));
    expect(read(APR)).toBe(0x60);
    apic.acknowledge();
    apic.accept(fixed(0x22));
    expect(read(APR)).toBe(0x60);
    write(EOI, 0);
    expect(read(APR)).toBe(0x35);
    expect(apic.arbitrationPriority).toBe(0x35);
  });

  it('sets TMR for level-triggered vectors and reports their EOI for the I/O APICs', () => {
    const { apic, read, write, enable, fixed, events } = setup();
    enable();
    apic.accept(fixed(0x61, 'level'));
    apic.accept(fixed(0x52));
    expect(read(TMR + 0x30)).toBe(1 << 1);
    expect(read(TMR + 0x20)).toBe(0);
    expect(apic.acknowledge()).toBe(0x61);
    write(EOI, 0);
    expect(events).toEqual(['eoi0:61']);
    expect(apic.acknowledge()).toBe(0x52);
    write(EOI, 0);
    expect(events).toEqual(['eoi0:61']);
    write(EOI, 0); // nothing in service: nothing happens
    expect(events).toEqual(['eoi0:61']);
  });

  it('accepts no fixed interrupts while software-disabled, but still NMI, INIT and SIPI', () => {
    const { apic, fixed, intrs, events, read } = setup();
    apic.accept(fixed(0x40));
    expect(intrs[0].level).toBe(false);
    expect(read(IRR + 0x20)).toBe(0);
    apic.accept({ ...fixed(0), mode: DeliveryMode.Nmi });
    apic.accept({ ...fixed(0x9a), mode: DeliveryMode.Startup });
    expect(events).toEqual(['nmi0', 'sipi0:9a']);
  });

  it('masks every LVT entry on software disable and keeps them masked until re-enabled', () => {
    const { read, write, enable } = setup();
    enable();
    write(LVT_TIMER, 0x20030);
    write(LVT_ERROR, 0xfe);
    write(SVR, 0xff);
    expect(read(LVT_TIMER)).toBe(0x30030);
    expect(read(LVT_ERROR)).toBe(0x100fe);
    write(LVT_ERROR, 0xfe);
    expect(read(LVT_ERROR)).toBe(0x100fe);
    enable();
    write(LVT_ERROR, 0xfe);
    expect(read(LVT_ERROR)).toBe(0xfe);
  });

  it('logs illegal vectors and raises the error interrupt', () => {
    const { apic, write, enable, fixed, esr, sent, intrs } = setup();
    enable();
    write(LVT_ERROR, 0xe3);
    apic.accept(fixed(0x05));
    expect(esr()).toBe(ESR_RECEIVE_ILLEGAL_VECTOR);
    expect(apic.acknowledge()).toBe(0xe3);
    write(EOI, 0);
    write(ICR_LOW, 0x4000 | 0x0e); // fixed, vector 14: not sent
    expect(sent).toEqual([]);
    expect(esr()).toBe(ESR_SEND_ILLEGAL_VECTOR);
    expect(apic.acknowledge()).toBe(0xe3);
    write(EOI, 0);
    // An error vector that is itself illegal is only logged, without recursion.
    write(LVT_ERROR, 0x02);
    apic.accept(fixed(0x01));
    expect(esr()).toBe(ESR_RECEIVE_ILLEGAL_VECTOR);
    expect(intrs[0].level).toBe(false);
  });
});

describe('LocalApic timer', () => {
  it('one-shot: counts down at bus clock / divide and interrupts once at zero', () => {
    const { clock, apic, read, write, enable, intrs } = setup();
    enable();
    const times: number[] = [];
    intrs[0].connect((l) => l && times.push(clock.now()));
    write(DIVIDE, 0x3); // divide by 16
    write(LVT_TIMER, 0x40);
    clock.advanceTo(1000);
    write(INITIAL_COUNT, 1000);
    expect(read(CURRENT_COUNT)).toBe(1000);
    clock.advanceTo(1000 + 16 * 250 + 15);
    expect(read(CURRENT_COUNT)).toBe(750);
    clock.advanceTo(1000 + 16 * 1000 - 1);
    expect(intrs[0].level).toBe(false);
    expect(read(CURRENT_COUNT)).toBe(1);
    clock.advanceTo(1000 + 16 * 1000);
    expect(times).toEqual([1000 + 16000]);
    expect(read(CURRENT_COUNT)).toBe(0);
    expect(apic.acknowledge()).toBe(0x40);
    write(EOI, 0);
    clock.advanceTo(1_000_000);
    expect(times.length).toBe(1);
    expect(read(INITIAL_COUNT)).toBe(1000);
  });

  it('periodic: interrupts every initial-count period and reloads', () => {
    const { clock, apic, read, write, enable, intrs } = setup();
    enable();
    const times: number[] = [];
    intrs[0].connect((l) => {
      if (!l) return;
      times.push(clock.now());
      apic.acknowledge();
      write(EOI, 0);
    });
    write(DIVIDE, 0xb); // divide by 1
    write(LVT_TIMER, 0x20000 | 0x41);
    write(INITIAL_COUNT, 100_000);
    clock.advanceTo(350_000);
    expect(times).toEqual([100_000, 200_000, 300_000]);
    expect(read(CURRENT_COUNT)).toBe(50_000);
    // Divide change mid-count: the count stays, the rate changes.
    write(DIVIDE, 0x0); // divide by 2
    expect(read(CURRENT_COUNT)).toBe(50_000);
    clock.advanceTo(350_000 + 2 * 10_000);
    expect(read(CURRENT_COUNT)).toBe(40_000);
    clock.advanceTo(350_000 + 2 * 50_000);
    expect(times[3]).toBe(450_000);
    clock.advanceTo(450_000 + 200_000);
    expect(times[4]).toBe(650_000);
    // Writing zero stops it.
    write(INITIAL_COUNT, 0);
    clock.advanceTo(2_000_000);
    expect(times.length).toBe(5);
    expect(read(CURRENT_COUNT)).toBe(0);
  });

  it('masked: keeps counting without interrupting; a count that ran out stays silent when unmasked', () => {
    const { clock, read, write, enable, intrs } = setup();
    enable();
    write(DIVIDE, 0xb);
    write(LVT_TIMER, 0x10040);
    write(INITIAL_COUNT, 500);
    clock.advanceTo(200);
    expect(read(CURRENT_COUNT)).toBe(300);
    clock.advanceTo(600);
    expect(read(CURRENT_COUNT)).toBe(0);
    write(LVT_TIMER, 0x40);
    clock.advanceTo(10_000);
    expect(intrs[0].level).toBe(false);
    // Unmasked before it runs out: it fires.
    write(LVT_TIMER, 0x10040);
    write(INITIAL_COUNT, 500);
    clock.advanceTo(10_100);
    write(LVT_TIMER, 0x40);
    clock.advanceTo(10_499);
    expect(intrs[0].level).toBe(false);
    clock.advanceTo(10_500);
    expect(intrs[0].level).toBe(true);
  });

  it('spaces interrupts of a tiny periodic count so the event queue stays bounded', () => {
    const { clock, apic, read, write, enable, intrs } = setup();
    enable();
    let n = 0;
    intrs[0].connect((l) => {
      if (!l) return;
      n++;
      apic.acknowledge();
      write(EOI, 0);
    });
    write(DIVIDE, 0xb);
    write(LVT_TIMER, 0x20041);
    write(INITIAL_COUNT, 1);
    clock.advanceTo(100 * MIN_TIMER_INTERRUPT_NS);
    expect(n).toBeGreaterThan(50);
    expect(n).toBeLessThanOrEqual(101);
    expect(read(CURRENT_COUNT)).toBe(1);
  });
});

describe('LocalApic inter-processor interrupts', () => {
  it('turns ICR writes into messages with every field decoded', () => {
    const { read, write, enable, sent } = setup({ count: 1 });
    enable();
    write(ICR_HIGH, 0x03000000);
    write(ICR_LOW, 0x0000c935); // level-triggered, assert, logical, lowest priority, vector 0x35
    expect(sent.at(-1)).toEqual({
      vector: 0x35, mode: DeliveryMode.LowestPriority, destination: 3, destMode: 'logical', level: true,
      trigger: 'level', shorthand: 'none',
    });
    expect(read(ICR_LOW) & 0x1000).toBe(0); // delivery status: idle
    write(ICR_LOW, 0x00044042);
    expect(sent.at(-1)).toMatchObject({ vector: 0x42, mode: 0, destMode: 'physical', level: true, trigger: 'edge', shorthand: 'self' });
    write(ICR_LOW, 0x00080400);
    expect(sent.at(-1)).toMatchObject({ mode: DeliveryMode.Nmi, shorthand: 'all', level: false });
    write(ICR_LOW, 0x000c4500);
    expect(sent.at(-1)).toMatchObject({ mode: DeliveryMode.Init, shorthand: 'others' });
    write(ICR_LOW, 0x000c4610);
    expect(sent.at(-1)).toMatchObject({ mode: DeliveryMode.Startup, vector: 0x10 });
    const before = sent.length;
    write(ICR_LOW, 0x00004720); // ExtINT is reserved in the ICR
    write(ICR_LOW, 0x00004320); // mode 3 is reserved
    expect(sent.length).toBe(before);
  });

  it('delivers fixed IPIs by physical ID, broadcast and shorthand', () => {
    const { apics, on, enable, intrs } = setup({ count: 4 });
    for (let i = 0; i < 4; i++) enable(i);
    const pending = () => intrs.map((l) => (l.level ? 1 : 0));
    const ack = () => apics.forEach((a, i) => { if (intrs[i].level) { a.acknowledge(); on(i).write(EOI, 0); } });
    on(0).write(ICR_HIGH, 0x02000000);
    on(0).write(ICR_LOW, 0x4050);
    expect(pending()).toEqual([0, 0, 1, 0]);
    ack();
    on(1).write(ICR_HIGH, 0xff000000);
    on(1).write(ICR_LOW, 0x4050);
    expect(pending()).toEqual([1, 1, 1, 1]);
    ack();
    on(3).write(ICR_LOW, 0x44050); // self
    expect(pending()).toEqual([0, 0, 0, 1]);
    ack();
    on(3).write(ICR_LOW, 0x84050); // all including self
    expect(pending()).toEqual([1, 1, 1, 1]);
    ack();
    on(3).write(ICR_LOW, 0xc4050); // all excluding self
    expect(pending()).toEqual([1, 1, 1, 0]);
    ack();
    // A changed APIC ID is what physical destinations match.
    on(2).write(ID, 0x07000000);
    on(0).write(ICR_HIGH, 0x07000000);
    on(0).write(ICR_LOW, 0x4050);
    expect(pending()).toEqual([0, 0, 1, 0]);
  });

  it('matches logical destinations in the flat and cluster models', () => {
    const { apics, on } = setup({ count: 4 });
    const ids = [0x01, 0x02, 0x04, 0x08];
    ids.forEach((l, i) => on(i).write(LDR, l << 24));
    const logical = (dest: number) =>
      apicDestinations({ vector: 0x50, mode: 0, destination: dest, destMode: 'logical', level: true, trigger: 'edge', shorthand: 'none' }, apics)
        .map((a) => a.id);
    expect(logical(0x05)).toEqual([0, 2]);
    expect(logical(0xff)).toEqual([0, 1, 2, 3]);
    expect(logical(0x10)).toEqual([]);
    // Cluster model: high nibble is the cluster, low nibble a bit mask within it.
    const cluster = [0x11, 0x12, 0x21, 0x22];
    cluster.forEach((l, i) => {
      on(i).write(DFR, 0x0fffffff);
      on(i).write(LDR, l << 24);
    });
    expect(logical(0x13)).toEqual([0, 1]);
    expect(logical(0x22)).toEqual([3]);
    expect(logical(0xf1)).toEqual([0, 2]); // cluster 15 reaches every cluster
    expect(logical(0x31)).toEqual([]);
    // Physical matching is unaffected by the logical setup.
    expect(apicDestinations({ vector: 0x50, mode: 0, destination: 1, destMode: 'physical', level: true, trigger: 'edge', shorthand: 'none' }, apics).map((a) => a.id)).toEqual([1]);
  });

  it('gives a lowest-priority interrupt to one APIC: the focus, else the lowest arbitration priority', () => {
    const { apics, on, enable, intrs } = setup({ count: 3 });
    for (let i = 0; i < 3; i++) {
      enable(i);
      on(i).write(LDR, 0x01000000);
    }
    on(0).write(TPR, 0x40);
    on(1).write(TPR, 0x20);
    on(2).write(TPR, 0x30);
    on(0).write(ICR_HIGH, 0x01000000);
    on(0).write(ICR_LOW, 0x4961); // logical, lowest priority, vector 0x61
    expect(intrs.map((l) => l.level)).toEqual([false, true, false]);
    // APIC 1 now has 0x61 pending: it is the focus for that vector even if its priority rises.
    on(1).write(TPR, 0x50);
    on(0).write(ICR_LOW, 0x4961);
    expect(intrs.map((l) => l.level)).toEqual([false, true, false]);
    // Another vector goes to the lowest arbitration priority (APIC 2 at 0x30).
    on(0).write(ICR_LOW, 0x4972);
    expect(intrs.map((l) => l.level)).toEqual([false, true, true]);
    // Focus checking disabled (SVR bit 9): priority alone decides.
    for (let i = 0; i < 3; i++) on(i).write(SVR, 0x3ff);
    apics[2].acknowledge();
    on(2).write(TPR, 0xf0);
    on(0).write(TPR, 0x00);
    on(0).write(ICR_LOW, 0x4972);
    expect(intrs[0].level).toBe(true);
  });

  it('resets on INIT (keeping its ID), ignores INIT de-assert, and passes SIPI vectors on', () => {
    const { on, enable, events } = setup({ count: 2 });
    enable(1);
    on(1).write(ID, 0x05000000);
    on(1).write(TPR, 0x30);
    on(1).write(LDR, 0x02000000);
    on(0).write(ICR_LOW, 0x000c8500); // INIT level de-assert to all others
    expect(events).toEqual([]);
    expect(on(1).read(TPR)).toBe(0x30);
    on(0).write(ICR_LOW, 0x000c4500); // INIT assert to all others
    expect(events).toEqual(['init1']);
    expect(on(1).read(TPR)).toBe(0);
    expect(on(1).read(LDR)).toBe(0);
    expect(on(1).read(SVR)).toBe(0xff);
    expect(on(1).read(ID)).toBe(0x05000000);
    on(0).write(ICR_HIGH, 0x05000000);
    on(0).write(ICR_LOW, 0x00004608);
    expect(events).toEqual(['init1', 'sipi1:8']);
    on(0).write(ICR_LOW, 0x00004400); // NMI by physical ID
    on(0).write(ICR_LOW, 0x00004200); // SMI
    expect(events.slice(2)).toEqual(['nmi1', 'smi1']);
  });
});

describe('LocalApic LINT pins', () => {
  it('passes the 8259 through LINT0 in ExtINT mode, regardless of TPR', () => {
    const { apic, write, enable, intrs, extVectors, fixed } = setup();
    enable();
    write(TPR, 0xff);
    apic.setLint(0, true);
    expect(intrs[0].level).toBe(true);
    extVectors.push(0x08);
    expect(apic.acknowledge()).toBe(0x08);
    apic.setLint(0, false);
    expect(intrs[0].level).toBe(false);
    // APIC interrupts above the PPR come first.
    write(TPR, 0);
    apic.accept(fixed(0x80));
    apic.setLint(0, true);
    extVectors.push(0x09);
    expect(apic.acknowledge()).toBe(0x80);
    expect(apic.acknowledge()).toBe(0x09);
    // Masked LINT0 stops the 8259.
    write(LVT_LINT0, 0x10700);
    expect(intrs[0].level).toBe(false);
  });

  it('works as virtual wire from power-on, before the guest enables the APIC', () => {
    const { apic, intrs, extVectors } = setup();
    apic.setLint(0, true);
    extVectors.push(0x20);
    expect(intrs[0].level).toBe(true);
    expect(apic.acknowledge()).toBe(0x20);
  });

  it('turns LINT0/LINT1 into the INTR and NMI pins when hardware-disabled', () => {
    const { apic, intrs, events, extVectors } = setup({ bsp: false });
    apic.setHardwareEnabled(false);
    apic.setLint(0, true);
    expect(intrs[0].level).toBe(true);
    extVectors.push(0x0d);
    expect(apic.acknowledge()).toBe(0x0d);
    apic.setLint(1, true);
    apic.setLint(1, false);
    expect(events).toEqual(['nmi0']);
  });

  it('takes NMI on the rising edge of LINT1 as SeaBIOS programs it, and honours polarity', () => {
    const { apic, write, enable, events } = setup();
    enable();
    write(LVT_LINT1, 0x8400);
    apic.setLint(1, true);
    apic.setLint(1, false);
    apic.setLint(1, true);
    expect(events).toEqual(['nmi0', 'nmi0']);
    apic.setLint(1, false);
    write(LVT_LINT1, 0x2400); // active low: the low pin is asserted now
    apic.setLint(1, true);
    apic.setLint(1, false);
    expect(events).toEqual(['nmi0', 'nmi0', 'nmi0']);
  });

  it('holds a level-triggered fixed LINT interrupt in remote IRR until EOI', () => {
    const { apic, read, write, enable, intrs } = setup({ bsp: false });
    enable();
    write(LVT_LINT0, 0x8055);
    apic.setLint(0, true);
    expect(read(LVT_LINT0) & 0x4000).toBe(0x4000);
    expect(apic.acknowledge()).toBe(0x55);
    expect(intrs[0].level).toBe(false);
    write(EOI, 0);
    // Still asserted after EOI: requested again.
    expect(intrs[0].level).toBe(true);
    expect(apic.acknowledge()).toBe(0x55);
    apic.setLint(0, false);
    write(EOI, 0);
    expect(read(LVT_LINT0) & 0x4000).toBe(0);
    expect(intrs[0].level).toBe(false);
    // Edge-triggered fixed: one request per rising edge.
    write(LVT_LINT0, 0x0056);
    apic.setLint(0, true);
    expect(apic.acknowledge()).toBe(0x56);
    write(EOI, 0);
    expect(intrs[0].level).toBe(false);
  });
});

describe('LocalApic state', () => {
  it('saves and restores registers and a running timer', () => {
    const a = setup();
    a.enable();
    a.write(TPR, 0x20);
    a.write(LDR, 0x04000000);
    a.write(DIVIDE, 0xb);
    a.write(LVT_TIMER, 0x20044);
    a.write(INITIAL_COUNT, 1000);
    a.apic.accept(a.fixed(0x90, 'level'));
    a.clock.advanceTo(300);
    const saved = a.apic.saveState();

    const b = setup();
    b.clock.setTime(300);
    b.apic.loadState(JSON.parse(JSON.stringify(saved)));
    expect(b.read(TPR)).toBe(0x20);
    expect(b.read(LDR)).toBe(0x04000000);
    expect(b.read(CURRENT_COUNT)).toBe(700);
    expect(b.read(TMR + 0x40)).toBe(1 << 16);
    expect(b.intrs[0].level).toBe(true);
    expect(b.apic.acknowledge()).toBe(0x90);
    b.write(EOI, 0);
    b.clock.advanceTo(1000);
    expect(b.apic.acknowledge()).toBe(0x44);
  });

  it('refuses other versions and malformed states', () => {
    const { apic } = setup();
    expect(() => apic.loadState({ version: 2 })).toThrow(StateVersionError);
    expect(() => apic.loadState({ ...apic.saveState(), irr: [1, 2] })).toThrow(/irr/);
  });
});
