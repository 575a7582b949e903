// System-level CPU tests: guest programs under test/cpu/system/ boot from reset in the bare
// machine and report through the test ports. Every expectation comes from the Intel SDM
// (vol. 3: protection, interrupts, tasks, paging, virtual-8086 mode), not from the emulator.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { BareMachine, assemble, assembleFile, reports, type BareMachineOptions } from './bare-machine.ts';
import { StopReason } from '../../src/cpu/cpu-core.ts';

const dir = fileURLToPath(new URL('./system/', import.meta.url));
// WEBHVM_DEBUG_CORE=1 runs build/cpu.debug.wasm (node wasm/build.mjs --debug-only).
const debugCore = process.env.WEBHVM_DEBUG_CORE === '1';

function boot(name: string, options: BareMachineOptions = {}) {
  const machine = new BareMachine(assembleFile(`${dir}${name}.asm`), {
    budget: 5_000_000,
    debugCore,
    ...options,
  });
  const run = machine.run();
  return { ...run, report: reports(run.values) };
}

/** Run a program that must exit with code 0; returns its reports. */
function pass(name: string, options: BareMachineOptions = {}): Record<string, number> {
  const r = boot(name, options);
  if (r.exitCode !== 0) {
    const detail = Object.entries(r.report).map(([k, v]) => `${k}=${(v >>> 0).toString(16)}`).join(' ');
    throw new Error(`${name}: stop=${r.stop} exit=${r.exitCode} ${detail} ${r.cpu.describe()}`);
  }
  return r.report;
}

/** FAULT result: vector << 16 | error code (0xFFFF: the vector has none). */
const fault = (vector: number, code = 0xffff) => (vector << 16) | code;
const NONE = 0xff_ffff;
const GP = (code = 0) => fault(13, code);

const hex = (o: Record<string, number>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, `0x${(v >>> 0).toString(16)}`]));

describe('real mode', () => {
  it('IVT interrupts, offset wrap, the 64 KiB limit check and unreal mode', () => {
    expect(hex(pass('real-mode'))).toEqual(hex({
      ivsp: -6, // FLAGS, CS, IP pushed
      ivfl: 0, // IF and TF clear in the handler
      ivip: 0, // IP of the instruction after INT
      ivcs: 0xf000,
      ifbk: 0x200, // IRET restores IF
      wsp: 2,
      wsp1: 0xfffc, // the frame wrapped below SS:0000
      wcs: 0xf000,
      wrap: 0x5a,
      gpip: 0, // interrupt 13 at the faulting instruction
      a20a: 0x22,
      a20b: 0x22, // A20 off: FFFF:0010 wraps to 0
      a20c: 0x33,
      a20d: 0x11,
      unrl: 0x12345678,
      fsel: 0,
      esgp: 0,
    }));
  });
});

describe('protected-mode segmentation', () => {
  let result: Record<string, number> | undefined;
  const protectedRun = () => (result ??= pass('protected'));

  it('checks descriptor loads, limits, types, the LDT, conforming and 16-bit code', () => {
    const { sldt: _sldt, ...rest } = protectedRun();
    expect(hex(rest)).toEqual(hex({
      gdtl: GP(0x1000), // selector index beyond the GDT limit (error code without RPL)
      ssro: GP(0x48), // SS must be a writable data segment
      ssdp: GP(0x50), // SS DPL must equal CPL
      ssrp: GP(0x10), // SS RPL must equal CPL
      dsnp: fault(11, 0x58), // not present: #NP for DS...
      ssnp: fault(12, 0x58), // ...#SS for SS
      dsxo: GP(0x60), // execute-only code cannot be loaded into DS
      dsld: GP(0x68), // nor a system descriptor
      ssnl: GP(0), // null SS
      esnl: NONE, // null data selector loads fine
      esus: GP(0), // and faults on use
      lim1: NONE,
      lim2: GP(0),
      lim3: GP(0),
      rowr: GP(0),
      rord: NONE,
      cswr: GP(0),
      ed1: NONE, // expand-down, B=1: limit+1 .. 4 GiB-1
      ed2: GP(0),
      ed3: NONE,
      ed4: GP(0),
      ed5: NONE, // expand-down, B=0: limit+1 .. 0xFFFF
      ed6: GP(0),
      ed7: GP(0),
      ed8: GP(0),
      edrd: 0xcafe0001,
      xord: GP(0), // reading execute-only code through CS
      ldt0: GP(4), // LDT selector while LDTR is null
      ldtr: 0xabcd1234,
      ldt1: GP(0x104),
      acc0: 0x92,
      acc1: 0x93, // the load set the accessed bit
      lsl: 0xfff,
      lslz: 1,
      lar: 0x00c09100,
      vrw0: 0,
      vrr0: 0,
      vrr1: 1,
      p16: 2, // PUSH imm in a 16-bit code segment pushes a word
      cs16: 0x30,
      ccs: 0x83, // conforming code runs at the caller's CPL: CS.RPL = 3
      jnc: GP(8),
      cnc: GP(8),
      ds0: GP(0x10), // DPL 0 data at CPL 3
      ssvc: 12, // push beyond the SS limit: #SS(0)...
      sser: 0,
      ssep: 2, // ...with ESP unchanged
      ssip: 0, // at the PUSH
    }));
  });

  // On P6-family CPUs SLDT r32 clears bits 31:16 (SDM vol. 2, SLDT); the memory form stores 16 bits.
  it('SLDT r32 zero-extends the selector', () => {
    expect(protectedRun().sldt).toBe(0x68);
  });
});

describe('privilege levels', () => {
  it('moves between rings through IRET, gates, RETF and SYSENTER/SYSEXIT with the SDM checks', () => {
    expect(hex(pass('privilege'))).toEqual(hex({
      ds3: 0, // IRET to CPL 3 nulls DS and ES (DPL 0 data)...
      es3: 0,
      fs3: 0x23, // ...but not FS (DPL 3)
      cs3: 0x1b,
      cli: GP(0),
      fcs: 0x1b,
      fss: 0x23,
      fesp: 0,
      ffrm: 0x70000 - 24, // six dwords below TSS0.ESP0
      hlt: GP(0),
      crw: GP(0),
      crr: GP(0),
      intd: GP(0x31 * 8 + 2),
      sx3: GP(0),
      gds: 0,
      gret: 0,
      gesp: 0x70000 - 24, // EIP, CS, 2 parameters, ESP, SS
      gp0: 0x2222,
      gp1: 0x1111,
      goes: 0,
      goss: 0x23,
      grcs: 0x1b,
      io80: GP(0),
      iof0: NONE,
      ioff: GP(0),
      ioe8: GP(0),
      ioe9: NONE,
      popf: 0,
      cli3: NONE,
      in3: NONE,
      rfds: 0, // RETF to CPL 3 nulls DS
      rfcs: 0x1b,
      rfsp: 0x60000,
      xesp: 0, // SYSEXIT: ESP = ECX, EIP = EDX
      xcs: 0x1b, // SYSENTER_CS + 16, RPL 3
      xss: 0x23, // SYSENTER_CS + 24, RPL 3
      ecs: 0x08,
      ess: 0x10, // SYSENTER_CS + 8
      eesp: 0x6f000,
      eif: 0,
      lmf0: NONE,
      lmf8: GP(0), // the bit is clear, but the second byte read is beyond the TSS limit
    }));
  });
});

const PF = (code: number) => fault(14, code);
const tag = (s: string) => s.padEnd(4, ' ').split('').reduce((v, c, i) => v + c.charCodeAt(0) * 2 ** (8 * i), 0);

describe('paging', () => {
  it('translates 4 KiB and 4 MiB pages and raises #PF with the SDM error codes', () => {
    expect(hex(pass('paging'))).toEqual(hex({
      map1: tag('map1'),
      ad1: 0x20, // a read sets A only
      pda: 0x20,
      ad2: 0x60, // a write sets D
      pse: tag('map1'),
      psa: 0x20,
      psd: 0x60,
      pfr: PF(0),
      cr2r: 0x401234,
      pfw: PF(2),
      wp0: NONE,
      rsv: PF(9), // P | RSVD: bit 21 of a 4 MiB PDE is reserved without PSE-36
      cr2v: 0xc00000,
      fvec: 14,
      ferr: 0,
      feip: 0x401000,
      fcr2: 0x401000,
      xpg: PF(2),
      xcr2: 0x401000,
      xmem: 0xaaaa, // nothing written to the first page
      xrmw: PF(2),
      xrmm: 0xaaaa,
      xrep: PF(2),
      xrcx: 4, // four bytes copied before the fault
      xrdi: 0x401000,
      xrsi: 4,
      xrm: 0x04030201,
      xpsv: 14,
      xpse: 6, // W | U, not present
      xpsp: 0x401002,
      xpc2: 0x401000,
      xpsm: 0xaaaa,
      wp1: PF(3),
      wp2: PF(3),
      u1: PF(5),
      u2: PF(7),
      u3: PF(7),
      u4: PF(4),
      u5: NONE,
      ldt: PF(0), // implicit supervisor access: U/S clear in the error code
      lcr2: 0x3000,
      u6: PF(5),
      glb1: tag('G1'),
      ngl1: tag('G2'),
      glb2: tag('G2'),
    }));
  });
});

describe('PAE paging', () => {
  it('maps 2 MiB pages and enforces NX, reserved bits and EFER.NXE', () => {
    expect(hex(pass('pae'))).toEqual(hex({
      cpae: 1 << 6,
      cmax: 0x80000004,
      cpnx: 1 << 20,
      big: tag('big'),
      bigA: 0x20,
      xd0: PF(9), // XD set while EFER.NXE = 0 is a reserved bit
      rsv: PF(9),
      r13: PF(9),
      efr0: 0,
      efr1: 0x800,
      xrd: 0x90c3c3c3,
      xvec: 14,
      xerr: 0x11, // P | I/D
      xcr2: 0x400500,
      exok: 1,
      nerr: 0x10, // not present, instruction fetch
      rsv1: PF(9),
    }));
  });

  it('is gated by CPUID: without PAE, CR4.PAE and IA32_EFER raise #GP', () => {
    expect(hex(pass('pae', { pae: false }))).toEqual(hex({
      cpae: 0,
      cmax: 0x80000004,
      cpnx: 0,
      pae: GP(0),
      efer: GP(0),
    }));
  });
});

describe('hardware interrupts and single-step', () => {
  it('honours the STI and MOV SS shadows, blocks NMI until IRET, wakes HLT, traps on TF', () => {
    expect(hex(pass('interrupts'))).toEqual(hex({
      nosh: 0x77, // without a shadow the interrupt comes at the next boundary
      stsh: 1, // the instruction after STI runs first
      stct: 2,
      mssh: 3, // the instruction after MOV SS runs first
      hlte: 0, // HLT resumes at the next instruction
      hltc: 4,
      rpip: 0, // interrupted REP MOVSB: EIP of the instruction...
      rpmd: 1, // ...with ECX part-way down
      rpcx: 0, // and it finishes after the IRET
      rpdt: 0xfeedf00d,
      nmic: 2, // the NMI raised inside the handler is taken after its IRET...
      nmid: 1, // ...not nested
      dbct: 3,
      dbe1: 0, // trap after the first instruction following the POPF
      dbe3: 0,
      bs: 0x4000,
    }));
  });
});

describe('exceptions', () => {
  it('restarts faults, continues after traps, sets EXT, escalates to #DF', () => {
    expect(hex(pass('exceptions'))).toEqual(hex({
      pop: GP(0),
      popp: 0, // POP m32 faulting on its destination leaves ESP alone
      push: GP(0),
      pshp: 0,
      add: GP(0),
      addf: 0x45, // CF ZF PF from before the faulting ADD
      de: fault(0),
      deax: 0x1234,
      dedx: 0x5678,
      br: fault(5),
      udv: 6,
      udip: 0,
      i3v: 3,
      i3ip: 0, // traps return after the instruction
      oev: 4,
      oeip: 0,
      i1v: 1,
      i1ip: 0,
      npn: fault(11, 0x41 * 8 + 2), // IDT bit, EXT clear for INT n
      intx: GP(0x1000),
      extv: 11,
      exte: 0x42 * 8 + 3, // IDT and EXT for an external interrupt
      udx: GP(0x1001), // EXT: raised while delivering #UD
      npud: fault(11, 6 * 8 + 3), // benign #UD, then #NP: handled serially
      df: fault(8, 0), // #GP while delivering #GP: double fault, error code 0
      dsok: 1,
      dfer: 0,
      dfsp: 0x78000, // the task's own stack, after popping the error code
      dfc2: 0x50ffc,
      dftr: 0x48,
      dfbl: 0x28,
      dfnt: 0x4000,
      dfts: 8,
      dfip: 0,
      dfos: 0x51000,
      bsy0: 0x8b,
      bsy1: 0x8b,
    }));
  });

  it('shuts down on a triple fault: the machine sees a reset', () => {
    const r = boot('triple');
    expect(r.report).toEqual({ pre: 1 });
    expect(r.stop).toBe(StopReason.Reset);
  });
});

describe('task switching', () => {
  it('switches through JMP, CALL, IRET, a task gate and a 16-bit TSS', () => {
    const r = pass('tasks');
    // The 16-bit task reports with 16-bit moves: only the low halves are defined.
    r.ax16 &= 0xffff;
    r.tr16 &= 0xffff;
    r.l16 &= 0xffff;
    expect(hex(r)).toEqual(hex({
      teax: 0x1111, // registers from the new TSS
      tebx: 0x3333,
      ttr: 0x40,
      jb0: 0x89, // JMP: the old task is no longer busy...
      jb1: 0x8b, // ...the new one is
      jnt: 0, // and not nested
      jeax: 0xaaaa,
      jeip: 0,
      jtr: 0x28,
      cnt: 0x4000, // CALL: NT set in the new task
      clnk: 0x28, // back link
      cb0: 0x8b, // both busy
      cb1: 0x8b,
      cbsy: GP(0x28), // CALL to a busy task
      rb0: 0x8b,
      rb1: 0x89,
      rnt: 0,
      ts: 8, // CR0.TS after a task switch
      ient: 0x4000 | 0x28,
      ib1: 0x89,
      ax16: 0x1616,
      tr16: 0x48,
      l16: 0x28,
      i16: 0,
      b16: 0x81,
    }));
  });
});

describe('virtual-8086 mode', () => {
  it('enters through IRET, faults on IOPL-sensitive instructions, interrupts to ring 0 and back', () => {
    const r = pass('v86');
    for (const k of ['vcs', 'rds', 'fcs', 'fds', 'fvds', 'fss', 'f1', 'f4', 'f5', 'f6', 'f7', 'f8']) r[k] &= 0xffff;
    // The arithmetic flags are whatever the program's last computation left.
    r.f2 &= ~0x8d5;
    r.r0fl &= ~0x8d5;
    expect(hex(r)).toEqual(hex({
      vcs: 0xf000,
      cli: GP(0),
      fvm: 0x20002, // VM set in the pushed EFLAGS (IOPL 0, IF 0)
      fcs: 0xf000,
      fds: 0, // the CPU loads null selectors into DS/ES/FS/GS before entering the handler
      fvds: 0x400,
      fss: 0x5000,
      fsp: 0xfff0,
      ffrm: 0x70000 - 40,
      sti: GP(0),
      pshf: GP(0),
      popf: GP(0),
      intn: GP(0), // INT n at IOPL < 3 (no VME)
      iret: GP(0),
      hlt: GP(0),
      int3: GP(3 * 8 + 2), // INT3 is not IOPL-sensitive: the gate's DPL 0 < CPL 3 decides
      io80: GP(0),
      iof0: NONE,
      rds: 0x400,
      rsp: 0,
      cli3: NONE,
      pf3: NONE,
      pp3: NONE,
      io3: GP(0),
      i31f: NONE, // INT n at IOPL 3 goes through the DPL-3 gate to ring 0
      i31: 1,
      i32: GP(0x18), // from virtual-8086 mode the handler's code segment must have DPL 0
      f0: 0, // the IP after INT3
      f1: 0xf000,
      f2: 0x20002,
      f3: 0xfff0,
      f4: 0x5000,
      f5: 0x0200, // ES was pointing at the IDT
      f6: 0x400,
      f7: 0,
      f8: 0,
      r0ds: 0,
      r0fl: 2, // VM and IF clear in the handler
      r0sp: 0x70000 - 36, // nine dwords, no error code
      seg: 0x5b,
      seg2: 0x5b,
    }));
  });
});

describe('16-bit gates and TSS stacks', () => {
  it('builds 16-bit frames, copies word parameters, and raises #TS for a bad SS0', () => {
    expect(hex(pass('gates16'))).toEqual(hex({
      jgsp: 0, // JMP through a call gate pushes nothing
      jgcs: 0x08,
      iesp: 0xf000,
      iecs: 0x6b,
      ip: 0, // 16-bit interrupt gate: IP, CS, FLAGS, SP, SS as words
      cs: 0x6b,
      sp: 0xf000,
      ss: 0x23,
      hesp: 0x70000 - 10,
      cesp: 0xf000, // RETF 4 released both word parameters
      cip: 0,
      ccs: 0x6b,
      cp0: 0x2222,
      cp1: 0x1111,
      csp: 0xeffc,
      css: 0x23,
      chsp: 0x70000 - 12,
      tser: 0x60, // #TS(SS0 selector) for a read-only stack segment
      tscs: 0x6b,
      tsip: 0,
    }));
  });
});

describe('INTR driven by the machine', () => {
  // Real mode: IRQ handler at vector 0x20 counts and reports; the main loop halts.
  const source = `
bits 16
org 0xf0000
start:
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
  mov word [0x20 * 4], irq - 0xf0000
  mov word [0x20 * 4 + 2], 0xf000
  sti
idle:
  hlt
  jmp idle
irq:
  inc word [0x500]
  movzx eax, word [0x500]
  out 0xf0, eax
  iret
times 0xfff0 - ($ - $$) db 0
  jmp 0xf000:start - 0xf0000
times 0x10000 - ($ - $$) db 0
`;

  it('wakes HLT through setIntr and the acknowledge cycle; a withdrawn request leaves it halted', () => {
    let acks = 0;
    let vector = 0x20;
    const m: BareMachine = new BareMachine(assemble(source), {
      debugCore,
      interruptAcknowledge: () => {
        acks++;
        m.cpu.setIntr(false);
        return vector;
      },
    });
    expect(m.run(1000).stop).toBe(StopReason.Halt);
    expect(m.cpu.halted).toBe(true);
    m.cpu.setIntr(true);
    expect(m.run(1000).stop).toBe(StopReason.Halt);
    expect([acks, ...m.values]).toEqual([1, 1]);
    // The controller withdraws the request during the acknowledge cycle: no interrupt is taken
    // and the CPU stays in the halt state (it does not run the instruction after HLT).
    vector = -1;
    m.cpu.setIntr(true);
    const eip = m.cpu.eip;
    expect(m.run(1000).stop).toBe(StopReason.Halt);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.eip).toBe(eip);
    expect([acks, ...m.values]).toEqual([2, 1]);
    vector = 0x20;
    m.cpu.setIntr(true);
    m.run(1000);
    expect([acks, ...m.values]).toEqual([3, 1, 2]);
  });
});
