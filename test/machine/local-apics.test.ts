import { describe, expect, it } from 'vitest';
import { CpuCore, StopReason } from '../../src/cpu/cpu-core.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import { LocalApics, type IpiEvent } from '../../src/machine/local-apics.ts';

const ID = 0x20;
const TPR = 0x80;
const LDR = 0xd0;
const SVR = 0xf0;
const IRR = 0x200;
const ICR_LOW = 0x300;
const ICR_HIGH = 0x310;

/** Two or more vCPUs in a real core, each with its local APIC, wired as the machine wires them. */
function board(vcpus = 2) {
  const cpu = new CpuCore({
    module: loadCoreModule(false),
    ramBytes: 1 << 20,
    vcpus,
    platform: { portIn: () => 0xff, portOut: () => {}, mmioRead: () => 0, mmioWrite: () => {}, interruptAcknowledge: () => -1 },
  });
  cpu.configure({ apic: true, pae: false, cpuCount: vcpus });
  cpu.reset();
  const ipis: IpiEvent[] = [];
  const intrChanges: number[] = [];
  const apics = new LocalApics({
    clock: new EventClock(), cpu,
    intrChanged: (v) => {
      intrChanges.push(v);
      cpu.setIntr(apics.apics[v].interruptPending, v);
    },
    onLevelEoi: () => {},
    externalAcknowledge: () => 0x08,
    onIpi: (e) => ipis.push(e),
  });
  /** An MMIO access to 0xFEE00000 + offset made by vCPU `vcpu`. */
  const read = (vcpu: number, offset: number) => {
    cpu.select(vcpu);
    return apics.mmio.read!(offset, 4) >>> 0;
  };
  const write = (vcpu: number, offset: number, value: number) => {
    cpu.select(vcpu);
    apics.mmio.write!(offset, 4, value >>> 0);
  };
  const sendIpi = (from: number, destination: number, low: number) => {
    write(from, ICR_HIGH, destination << 24);
    write(from, ICR_LOW, low);
  };
  /** Whether `vector` is requested (IRR) in vCPU `vcpu`'s APIC. */
  const requested = (vcpu: number, vector: number) => ((read(vcpu, IRR + (vector >> 5) * 0x10) >>> (vector & 31)) & 1) === 1;
  for (let v = 0; v < vcpus; v++) write(v, SVR, 0x1ff); // software-enable every APIC
  return { cpu, apics, ipis, intrChanges, read, write, sendIpi, requested };
}

describe('local APICs of several vCPUs', () => {
  it('shows each vCPU its own APIC at the same address, with APIC IDs matching the vCPU index', () => {
    const { read, write } = board(3);
    expect([0, 1, 2].map((v) => read(v, ID) >>> 24)).toEqual([0, 1, 2]);
    write(1, TPR, 0x40);
    expect([read(0, TPR), read(1, TPR), read(2, TPR)]).toEqual([0, 0x40, 0]);
  });

  it('starts an AP with INIT assert, INIT de-assert and two STARTUPs sent by the BSP', () => {
    const { cpu, ipis, sendIpi } = board();
    cpu.ram()[0x9000] = 0xf4; // hlt at the start-up address of vector 9
    sendIpi(0, 1, 0x0000c500); // INIT, level assert, physical destination 1
    sendIpi(0, 1, 0x00008500); // INIT level de-assert
    expect(cpu.runnable(1)).toBe(true);
    sendIpi(0, 1, 0x00000609); // STARTUP vector 9
    sendIpi(0, 1, 0x00000609);
    expect(ipis.map((e) => [e.source, e.message.mode, e.targets])).toEqual([[0, 5, [1]], [0, 5, [1]], [0, 6, [1]], [0, 6, [1]]]);
    cpu.select(1);
    expect(cpu.run(50)).toBe(StopReason.Halt);
    expect(cpu.segment(1)).toMatchObject({ selector: 0x900, base: 0x9000 });
    expect(cpu.eip).toBe(1);
    // The second STARTUP arrived while the AP still waited (before it ran): it changes nothing.
    expect(cpu.runnable(1)).toBe(false);
  });

  it('delivers fixed IPIs by shorthand and logical destination to the right vCPU', () => {
    const { cpu, apics, write, sendIpi, intrChanges, requested } = board(3);
    sendIpi(0, 0, 0x000c0041); // fixed vector 0x41 to all excluding self
    expect(intrChanges.sort()).toEqual([1, 2]);
    expect([0, 1, 2].map((v) => requested(v, 0x41))).toEqual([false, true, true]);
    expect(apics.apics[1].interruptPending && apics.apics[2].interruptPending && !apics.apics[0].interruptPending).toBe(true);
    // Flat logical model: vCPU 2 answers to logical bit 2 only.
    write(2, LDR, 0x04000000);
    write(1, LDR, 0x02000000);
    sendIpi(0, 0x04, 0x00000852); // fixed 0x52, logical destination 0x04
    expect([0, 1, 2].map((v) => requested(v, 0x52))).toEqual([false, false, true]);
    // The INTA cycle of the running vCPU takes its own APIC's vector.
    cpu.select(2);
    expect(apics.running.acknowledge()).toBe(0x52);
  });

  it('gives a lowest-priority interrupt to the vCPU with the lowest task priority', () => {
    const { write, sendIpi, requested } = board();
    write(0, LDR, 0x01000000);
    write(1, LDR, 0x02000000);
    write(0, TPR, 0x80);
    sendIpi(0, 0x03, 0x00000961); // lowest priority, logical 0x03, vector 0x61
    expect([requested(0, 0x61), requested(1, 0x61)]).toEqual([false, true]);
  });

  it('raises NMI on the target vCPU and wakes it from HLT', () => {
    const { cpu, sendIpi } = board();
    cpu.ram()[0x9000] = 0xf4;
    sendIpi(0, 1, 0x00004500); // INIT
    sendIpi(0, 1, 0x00004609); // STARTUP 9
    cpu.select(1);
    cpu.run(10);
    expect(cpu.runnable(1)).toBe(false);
    sendIpi(0, 1, 0x00004400); // NMI
    expect(cpu.runnable(1)).toBe(true);
  });

  it('lets PAUSE end the sender\'s turn when an IPI gives another vCPU work', () => {
    const { cpu, sendIpi } = board();
    const pauseExit = () => cpu.view.getUint32(cpu.stateAddress(0) + cpu.offset('S_PAUSE_EXIT'), true);
    cpu.select(0);
    cpu.setPauseExit(false);
    sendIpi(0, 1, 0x00004500);
    expect(pauseExit()).toBe(1);
  });

  it('takes APIC_BASE writes from the running vCPU: a hardware-disabled APIC vanishes for that vCPU only', () => {
    const { cpu, apics, read } = board();
    cpu.select(1);
    apics.running.apicBaseWritten(0xfee00000);
    expect(read(1, ID)).toBe(0xffffffff);
    expect(read(0, ID)).toBe(0);
    cpu.select(1);
    apics.running.apicBaseWritten(0xfee00800);
    expect(read(1, ID)).toBe(0x01000000);
  });
});
