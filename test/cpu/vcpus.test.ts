// Several vCPUs in one core: start-up (wait-for-SIPI, INIT, STARTUP), per-vCPU CPUID and TSC,
// and atomicity of locked operations when turns switch vCPUs every few instructions. Expected
// values come from the Intel SDM (vol. 3, "MP Initialization", "Processor State After Reset")
// and the MP specification, not from the emulator.
import { describe, expect, it } from 'vitest';
import { CpuCore, StopReason } from '../../src/cpu/cpu-core.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';
import { VcpuScheduler } from '../../src/machine/vcpu-scheduler.ts';
import { assemble } from './bare-machine.ts';

const CS = 1;

/** A core with `vcpus` vCPUs, 1 MiB of RAM, a ROM whose reset vector jumps to 0000:8000, and `code` at 0x8000. */
function smpCore(vcpus: number, code: Uint8Array) {
  const out: { vcpu: number; value: number }[] = [];
  const cpu: CpuCore = new CpuCore({
    module: loadCoreModule(false),
    ramBytes: 1 << 20,
    vcpus,
    platform: {
      portIn: () => 0xffffffff,
      portOut: (port, _size, value) => {
        if (port === 0xf0) out.push({ vcpu: cpu.current, value: value >>> 0 });
      },
      mmioRead: () => 0xffffffff,
      mmioWrite: () => {},
      interruptAcknowledge: () => -1,
    },
  });
  const rom = new Uint8Array(0x10000).fill(0xf4);
  rom.set([0xea, 0x00, 0x80, 0x00, 0x00], 0xfff0); // jmp 0000:8000
  cpu.mapRom(0xffff0000, rom, 0);
  cpu.configure({ apic: true, pae: false, cpuCount: vcpus });
  cpu.reset();
  cpu.ram().set(code, 0x8000);
  return { cpu, out };
}

const header = 'bits 16\norg 0x8000\nstart:\n  xor ax, ax\n  mov ds, ax\n  mov ss, ax\n';

describe('vCPU start-up', () => {
  it('starts the BSP at the reset vector and holds application processors in wait-for-SIPI', () => {
    const { cpu, out } = smpCore(2, assemble(`${header}  mov eax, 0x11\n  out 0xf0, eax\n  cli\n  hlt\n`));
    expect(cpu.current).toBe(0);
    expect(cpu.waitingForStartup(0)).toBe(false);
    expect(cpu.waitingForStartup(1)).toBe(true);
    expect(cpu.runnable(1)).toBe(false);
    // APIC_BASE: enabled at 0xFEE00000, BSP flag only on vCPU 0.
    const apicBase = (v: number) => cpu.view.getUint32(cpu.stateAddress(v) + cpu.offset('S_APIC_BASE'), true);
    expect(apicBase(0)).toBe(0xfee00900);
    expect(apicBase(1)).toBe(0xfee00800);
    expect(cpu.run(100)).toBe(StopReason.Halt);
    cpu.select(1);
    // An AP waiting for SIPI executes nothing, whatever the budget.
    expect(cpu.run(1000)).toBe(StopReason.Halt);
    expect(cpu.instructions).toBe(0n);
    expect(out).toEqual([{ vcpu: 0, value: 0x11 }]);
  });

  it('starts an AP in real mode at vector * 0x1000 on STARTUP, and ignores STARTUP once it runs', () => {
    // The AP's entry at 0x9000 (vector 9): report CS and the offset it started at.
    const { cpu, out } = smpCore(2, new Uint8Array(0));
    cpu.ram().set(assemble('bits 16\norg 0\n  call here\nhere:\n  pop ax\n  movzx eax, ax\n  out 0xf0, eax\n  mov ax, cs\n  out 0xf0, eax\n  cli\n  hlt\n'), 0x9000);
    expect(cpu.postStartup(1, 9)).toBe(true);
    expect(cpu.runnable(1)).toBe(true);
    cpu.select(1);
    expect(cpu.run(100)).toBe(StopReason.Halt);
    expect(out.map((o) => o.value)).toEqual([3, 0x900]);
    expect(cpu.segment(CS)).toMatchObject({ selector: 0x900, base: 0x9000, limit: 0xffff });
    // A second SIPI (the MP protocol sends two) finds the AP running: nothing happens.
    expect(cpu.postStartup(1, 9)).toBe(false);
    expect(cpu.runnable(1)).toBe(false);
  });

  it('INIT resets an AP into wait-for-SIPI, keeping its MSRs, TSC and x87 state; INIT then SIPI in one go also starts it', () => {
    const { cpu } = smpCore(2, new Uint8Array(0));
    cpu.ram().set(assemble('bits 16\norg 0\n  mov ecx, 0x200\n  mov eax, 0x12345006\n  xor edx, edx\n  wrmsr\n  fninit\n  push word 0x27f\n  mov bp, sp\n  fldcw [bp]\n  mov eax, 0x80000011\n  mov cr0, eax\n  cli\n  hlt\n'), 0x9000);
    cpu.postStartup(1, 9);
    cpu.select(1);
    cpu.run(100);
    const at = (name: string) => cpu.stateAddress(1) + cpu.offset(name);
    expect(cpu.view.getUint32(at('S_CR0'), true) >>> 0).toBe(0x80000011);
    const instructions = cpu.instructions;
    cpu.select(0);
    cpu.postInit(1);
    expect(cpu.runnable(1)).toBe(true);
    cpu.select(1);
    expect(cpu.run(100)).toBe(StopReason.Halt);
    expect(cpu.waitingForStartup(1)).toBe(true);
    // Reset values where INIT resets (CR0 keeps CD/NW, here clear; EIP, CS) ...
    expect(cpu.controlRegister(0)).toBe(0x10);
    expect(cpu.eip).toBe(0xfff0);
    expect(cpu.segment(CS)).toMatchObject({ selector: 0xf000, base: 0xffff0000 });
    // ... and the MTRR written, the FPU control word and the instruction count kept.
    expect(cpu.view.getUint32(at('S_TSC') - 0x280 + 0x320, true)).toBe(0x12345006); // MTRRphysBase0
    expect(cpu.view.getUint32(at('S_FPU_CONTROL'), true) & 0xffff).toBe(0x27f);
    expect(cpu.instructions).toBe(instructions);
    // INIT and STARTUP posted before the AP runs again take effect in that order.
    cpu.select(0);
    cpu.postInit(1);
    expect(cpu.postStartup(1, 9)).toBe(true);
    cpu.select(1);
    cpu.run(100);
    expect(cpu.segment(CS).selector).toBe(0x900);
    expect(cpu.waitingForStartup(1)).toBe(false);
  });

  it('INIT to the bootstrap processor restarts it at the reset vector instead of waiting', () => {
    const { cpu } = smpCore(2, assemble(`${header}  cli\n  hlt\n`));
    cpu.run(100);
    expect(cpu.halted).toBe(true);
    cpu.postInit(0);
    expect(cpu.runnable(0)).toBe(true);
    expect(cpu.run(1)).toBe(StopReason.Budget); // INIT, then the far jump at F000:FFF0
    expect(cpu.waitingForStartup(0)).toBe(false);
    expect(cpu.segment(CS).selector).toBe(0);
    expect(cpu.eip).toBe(0x8000);
  });
});

describe('per-vCPU identity and time', () => {
  it('CPUID leaf 1 gives each vCPU its initial APIC ID and the logical processor count', () => {
    const code = assemble(`${header}  mov eax, 1\n  cpuid\n  mov eax, ebx\n  out 0xf0, eax\n  cli\n  hlt\n`);
    const { cpu, out } = smpCore(3, code);
    cpu.run(100);
    for (const v of [1, 2]) {
      cpu.postStartup(v, 8);
      cpu.select(v);
      cpu.run(100);
    }
    expect(out.map((o) => [o.vcpu, o.value >>> 24, (o.value >>> 16) & 0xff])).toEqual([[0, 0, 3], [1, 1, 3], [2, 2, 3]]);
  });

  it('CPUID leaves 0x80000002-4 spell the brand string', () => {
    const leaves = [0x80000002, 0x80000003, 0x80000004].map((leaf) => `  mov eax, 0x${leaf.toString(16)}\n  cpuid\n  out 0xf0, eax\n  mov eax, ebx\n  out 0xf0, eax\n  mov eax, ecx\n  out 0xf0, eax\n  mov eax, edx\n  out 0xf0, eax\n`);
    const { cpu, out } = smpCore(1, assemble(`${header}${leaves.join('')}  cli\n  hlt\n`));
    cpu.run(200);
    const bytes = new Uint8Array(new Uint32Array(out.map((o) => o.value)).buffer);
    expect(new TextDecoder().decode(bytes).replace(/\0+$/, '')).toBe('WebHVM Pentium-processor');
  });

  it('keeps one TSC: a read on one vCPU is never behind a read made earlier on another', () => {
    // Linux's TSC warp check (check_tsc_warp): under a spinlock, read the last TSC any vCPU saw,
    // read the TSC, count a warp if it is behind, store it. Each vCPU reports its warps and how
    // often the last value came from the other vCPU.
    const code = assemble(`${header}  mov eax, 1
  cpuid
  shr ebx, 24
  mov si, 500
.next:
.spin:
  mov al, 1
  xchg al, [spinlock]
  test al, al
  jz .mine
  pause
  jmp .spin
.mine:
  mov ecx, [last]
  cmp [lastcpu], bl
  je .same
  inc word [handovers]
.same:
  rdtsc
  cmp eax, ecx
  jae .ok
  inc word [warps]
.ok:
  mov [last], eax
  mov [lastcpu], bl
  mov byte [spinlock], 0
  dec si
  jnz .next
  movzx eax, word [warps]
  out 0xf0, eax
  movzx eax, word [handovers]
  out 0xf0, eax
  cli
  hlt
align 4
last: dd 0
warps: dw 0
handovers: dw 0
lastcpu: db 0xff
spinlock: db 0
`);
    const { cpu, out } = smpCore(2, code);
    cpu.postStartup(1, 8);
    const scheduler = new VcpuScheduler(cpu, 37);
    while (scheduler.runRound(() => 1000, () => true) > 0);
    const report = (v: number) => out.filter((o) => o.vcpu === v).map((o) => o.value);
    const [warps0, handovers0] = report(0);
    const [warps1, handovers1] = report(1);
    expect(handovers0 + handovers1).toBeGreaterThan(20); // the vCPUs really took turns
    expect([warps0, warps1]).toEqual([0, 0]);
  });
});

describe('TSC catch-up in real time', () => {
  it('raises every vCPU\'s TSC to the guest clock, and never lowers one', () => {
    const { cpu, out } = smpCore(2, assemble(`${header}  rdtsc\n  out 0xf0, eax\n  cli\n  hlt\n`));
    cpu.raiseTimeStampCounters(1_000_000n);
    cpu.raiseTimeStampCounters(10n);
    cpu.run(100);
    cpu.postStartup(1, 8);
    cpu.select(1);
    cpu.run(100);
    expect(out).toHaveLength(2);
    // The BSP's RDTSC follows 4 instructions (far jump, xor, two segment loads); the AP's follows
    // the BSP's 8 (through HLT) and its own 3.
    expect(out.map((o) => o.value)).toEqual([1_000_004, 1_000_011]);
  });
});

describe('atomicity between vCPUs', () => {
  // Each vCPU adds 1 to a counter 3000 times: a load, an add and a store (a window another
  // vCPU's turn can fall into) guarded by a spinlock taken with XCHG; `done` counts finishers
  // with LOCK INC. Turns of 7 instructions switch vCPUs inside the critical section often.
  const worker = (locked: boolean) => `${header}
  mov ecx, 3000
.next:
${locked ? '.spin:\n  mov al, 1\n  xchg al, [spinlock]\n  test al, al\n  jz .mine\n  pause\n  jmp .spin\n.mine:' : ''}
  mov eax, [counter]
  add eax, 1
  mov [counter], eax
${locked ? '  mov byte [spinlock], 0' : ''}
  dec ecx
  jnz .next
  lock inc dword [done]
  cli
  hlt
align 4
counter: dd 0
done: dd 0
spinlock: db 0
`;

  function runTwo(locked: boolean) {
    const code = assemble(worker(locked));
    const { cpu } = smpCore(2, code);
    cpu.postStartup(1, 8);
    const scheduler = new VcpuScheduler(cpu, 7);
    let rounds = 0;
    while (scheduler.runRound(() => 1_000_000, () => true) > 0) rounds++;
    const label = (name: string) => 0x8000 + code.length - (name === 'counter' ? 9 : name === 'done' ? 5 : 1);
    const ram = new DataView(cpu.ram().buffer, cpu.ram().byteOffset);
    return { counter: ram.getUint32(label('counter'), true), done: ram.getUint32(label('done'), true), rounds };
  }

  it('XCHG takes a spinlock atomically, so no increment is lost', () => {
    const r = runTwo(true);
    expect(r.done).toBe(2);
    expect(r.counter).toBe(6000);
  });

  it('without the lock, switches inside load-add-store lose increments (the turns really interleave)', () => {
    const r = runTwo(false);
    expect(r.done).toBe(2);
    expect(r.counter).toBeLessThan(6000);
  });
});

describe('vCPU state for snapshots', () => {
  it('saves every vCPU block and loads them back into the same roles', () => {
    const { cpu } = smpCore(2, assemble(`${header}  mov eax, 0x1234\n  cli\n  hlt\n`));
    cpu.run(100);
    const saved = cpu.saveVcpuStates();
    expect(saved).toHaveLength(2);
    cpu.reset();
    cpu.postStartup(1, 8);
    cpu.select(1);
    cpu.run(100);
    cpu.loadVcpuStates(saved);
    expect(cpu.current).toBe(1);
    expect(cpu.waitingForStartup(1)).toBe(true);
    cpu.select(0);
    expect(cpu.reg(0)).toBe(0x1234);
    expect(cpu.halted).toBe(true);
    expect(() => cpu.loadVcpuStates(saved.slice(0, 1))).toThrow(RangeError);
  });
});
