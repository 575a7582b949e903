/**
 * WebAssembly side of the differential test: one CpuCore booted once into protected mode with
 * CR0.NE and CR4.OSFXSR set (as a Linux process runs) and
 * paging (identity map of the test pages, user bits as the native mappings), a GDT with flat
 * ring-0 and ring-3 segments, a TSS and an IDT whose gates lead to one HLT per vector. Each case
 * enters ring 3 through an IRET from ring 0 with the case's registers and flags, and ends in an
 * exception; the handler's HLT stops run() and the ring-0 stack holds the exception frame.
 */
import { readFileSync } from 'node:fs';
import { CpuCore, StopReason } from '../../../src/cpu/cpu-core.ts';
import { loadCoreModule } from '../../../src/cpu/load-core-node.ts';
import { assemble } from '../bare-machine.ts';
import type { TestCase } from './generator.ts';
import { CODE_PAGE, DATA, DATA_SIZE, GUARD_HI, RO_PAGE, fillData } from './layout.ts';
import { exponentOf, extendedToNumber, hasErrorCode, mantissaOf, type CpuResult } from './results.ts';

const PAGE_DIRECTORY = 0x10_0000;
const PAGE_TABLE = 0x10_1000;
const GDT = 0x10_2000;
const TSS = 0x10_2100;
const IDT = 0x10_3000;
const HANDLERS = 0x10_4000; // vector v: HLT at HANDLERS + 4v
const LAUNCHER = 0x10_5000; // IRET
const KERNEL_STACK_TOP = 0x10_7000;
const USER_CS = 0x1b;
const USER_DS = 0x23;

const BOOT_ROM = `
bits 16
org 0xf0000
start:
  cli
  o32 lgdt [cs:gdtr]
  o32 lidt [cs:idtr]
  mov eax, ${PAGE_DIRECTORY}
  mov cr3, eax
  mov eax, cr0
  or eax, 0x80010021          ; PG, WP, NE, PE: unmasked x87 exceptions give #MF, as under Linux
  mov cr0, eax
  mov eax, cr4
  or eax, 0x200               ; OSFXSR: FXSAVE/FXRSTOR include MXCSR and XMM0-7, as under Linux
  mov cr4, eax
  jmp dword 0x08:pm32
bits 32
pm32:
  mov ax, 0x10
  mov ss, ax
  mov esp, ${KERNEL_STACK_TOP}
  mov ax, ${USER_DS}
  mov ds, ax
  mov es, ax
  mov fs, ax
  mov gs, ax
  mov ax, 0x28
  ltr ax
  hlt
gdtr: dw 0x2f
  dd ${GDT}
idtr: dw 0x7ff
  dd ${IDT}
times 0xfff0 - ($ - $$) db 0
bits 16
  jmp 0xf000:start
times 0x10000 - ($ - $$) db 0
`;

let bootRom: Uint8Array | undefined;

export class EmulatorRunner {
  readonly cpu: CpuCore;
  private readonly ram: Uint8Array;
  private readonly view: DataView;
  private readonly state: number;

  constructor(debugCore = false) {
    this.cpu = new CpuCore({
      // WEBHVM_CORE_WASM: a core built elsewhere (a quick unoptimised build while iterating).
      module: process.env.WEBHVM_CORE_WASM ? new WebAssembly.Module(readFileSync(process.env.WEBHVM_CORE_WASM)) : loadCoreModule(debugCore),
      ramBytes: 16 << 20, // the module needs at least 32 MiB of shared memory (RAM_BASE + RAM)
      platform: {
        portIn: () => 0xffffffff,
        portOut: () => {},
        mmioRead: () => 0xffffffff,
        mmioWrite: () => {},
        interruptAcknowledge: () => -1,
      },
    });
    this.ram = this.cpu.ram();
    this.view = new DataView(this.ram.buffer, this.ram.byteOffset, this.ram.byteLength);
    this.state = this.cpu.offset('STATE');
    this.buildTables();
    bootRom ??= assemble(BOOT_ROM);
    this.cpu.mapRom(0xffff0000, bootRom, 0);
    this.cpu.mapRom(0x000f0000, bootRom, 0x10000);
    this.cpu.reset();
    const stop = this.cpu.run(1000);
    if (stop !== StopReason.Halt || this.cpu.controlRegister(0) >>> 31 !== 1) {
      throw new Error(`differential boot failed: stop ${stop}, ${this.cpu.describe()}`);
    }
  }

  private w32(addr: number, v: number): void {
    this.view.setUint32(addr, v >>> 0, true);
  }

  private buildTables(): void {
    this.ram.fill(0, PAGE_DIRECTORY, KERNEL_STACK_TOP);
    this.w32(PAGE_DIRECTORY, PAGE_TABLE | 7);
    const pte = (addr: number, flags: number) => this.w32(PAGE_TABLE + (addr >>> 12) * 4, flags ? addr | flags : 0);
    for (let a = 0xf0000; a < 0x100000; a += 0x1000) pte(a, 3); // boot code (supervisor)
    for (let a = PAGE_DIRECTORY; a < KERNEL_STACK_TOP; a += 0x1000) pte(a, 3);
    pte(CODE_PAGE, 5); // user, read-only
    for (let a = DATA; a < DATA + DATA_SIZE; a += 0x1000) pte(a, 7);
    pte(RO_PAGE, 5);
    // GDT: null, ring-0 code/data, ring-3 code/data (flat 4 GiB), TSS.
    const gdt: [number, number][] = [
      [0, 0], [0x0000ffff, 0x00cf9a00], [0x0000ffff, 0x00cf9200], [0x0000ffff, 0x00cffa00], [0x0000ffff, 0x00cff200],
      [((TSS & 0xffff) << 16) | 0x67, ((TSS >>> 16) & 0xff) | 0x8900 | (TSS & 0xff000000)],
    ];
    gdt.forEach(([lo, hi], i) => {
      this.w32(GDT + i * 8, lo);
      this.w32(GDT + i * 8 + 4, hi);
    });
    this.w32(TSS + 4, KERNEL_STACK_TOP);
    this.w32(TSS + 8, 0x10);
    this.w32(TSS + 102, 0x68 << 16); // no I/O bitmap
    for (let v = 0; v < 256; v++) {
      const handler = HANDLERS + v * 4;
      this.w32(IDT + v * 8, (0x08 << 16) | (handler & 0xffff));
      this.w32(IDT + v * 8 + 4, (handler & 0xffff0000) | 0x8e00);
      this.ram.set([0xf4, 0xf4, 0xf4, 0xf4], handler);
    }
    this.ram[LAUNCHER] = 0xcf; // IRET
  }

  private setState32(name: string, v: number): void {
    this.cpu.view.setUint32(this.state + this.cpu.offset(name), v >>> 0, true);
  }

  /** Run one case from its initial state to the exception that ends it. */
  run(c: TestCase, budget = 1_000_000): CpuResult {
    const ram = this.ram;
    ram.fill(0xf4, CODE_PAGE, CODE_PAGE + 0x1000);
    ram.set(c.code, CODE_PAGE);
    fillData(ram.subarray(DATA, GUARD_HI), c.seed);
    const initial = ram.slice(DATA, DATA + DATA_SIZE);
    const frame = KERNEL_STACK_TOP - 20;
    [CODE_PAGE, USER_CS, c.eflags, c.regs[4], USER_DS].forEach((v, i) => this.w32(frame + i * 4, v));
    for (let i = 0; i < 8; i++) this.cpu.setReg(i, i === 4 ? frame : c.regs[i]);
    this.cpu.eip = LAUNCHER;
    this.setState32('S_HALTED', 0);
    // All x87/MMX registers start as zero bits, as the native runner leaves them.
    this.cpu.bytes.fill(0, this.state + this.cpu.offset('S_FPU_REGS'), this.state + this.cpu.offset('S_FPU_REGS') + 0x80);
    // SSE state as the native runner leaves it (FXSAVE images include it).
    this.cpu.bytes.fill(0, this.state + this.cpu.offset('S_XMM'), this.state + this.cpu.offset('S_XMM') + 0x80);
    this.setState32('S_MXCSR', 0x1f80);
    if (c.fpuControl) {
      this.setState32('S_FPU_CONTROL', c.fpuControl);
      this.setState32('S_FPU_STATUS', 0);
      this.setState32('S_FPU_TOP', 0);
      this.setState32('S_FPU_TAG', 0xffff);
    }
    const stop = this.cpu.run(budget);
    const result: CpuResult = { regs: [], eflags: 0, eip: 0, vector: -1, errorCode: -1, cr2: 0, changes: new Map() };
    for (let i = 0; i < 8; i++) result.regs.push(this.cpu.reg(i));
    const eip = this.cpu.eip;
    if (stop !== StopReason.Halt || eip < HANDLERS + 1 || eip > HANDLERS + 1024 || (eip - HANDLERS - 1) % 4 !== 0) {
      result.problem = `run() stopped with reason ${stop} at eip ${eip.toString(16)} instead of in an exception handler`;
      result.eip = eip;
      result.eflags = this.cpu.eflags;
    } else {
      const vector = (eip - HANDLERS - 1) / 4;
      let sp = result.regs[4];
      result.vector = vector;
      if (hasErrorCode(vector)) {
        result.errorCode = this.view.getUint32(sp, true);
        sp += 4;
      }
      result.eip = this.view.getUint32(sp, true);
      result.eflags = this.view.getUint32(sp + 8, true);
      result.regs[4] = this.view.getUint32(sp + 12, true);
      if (this.view.getUint32(sp + 4, true) !== USER_CS) result.problem = `exception taken outside ring 3 (CS ${this.view.getUint32(sp + 4, true).toString(16)})`;
      result.cr2 = this.cpu.controlRegister(2);
    }
    for (let i = 0; i < DATA_SIZE; i++) if (ram[DATA + i] !== initial[i]) result.changes.set(i, ram[DATA + i]);
    if (c.fpuControl) result.fpu = this.fpuState();
    return result;
  }

  /**
   * The x87/MMX state from the state block (layout.ts: S_FPU_*). Registers are 16 bytes in
   * physical order holding the exact 80-bit value as FSAVE stores it (64-bit significand, the
   * MMX view, at +0; sign and exponent at +8), as wasm/fpu.ts keeps them.
   */
  private fpuState() {
    const base = this.cpu.offset('STATE');
    const v = new DataView(this.cpu.memory.buffer);
    const at = (name: string) => base + this.cpu.offset(name);
    const status = (v.getUint32(at('S_FPU_STATUS'), true) & ~0x3800) | ((v.getUint32(at('S_FPU_TOP'), true) & 7) << 11);
    const values: number[] = [];
    const mantissas: bigint[] = [];
    const exponents: number[] = [];
    const bytes = new Uint8Array(this.cpu.memory.buffer);
    for (let p = 0; p < 8; p++) {
      values.push(extendedToNumber(bytes, at('S_FPU_REGS') + p * 16));
      mantissas.push(mantissaOf(bytes, at('S_FPU_REGS') + p * 16));
      exponents.push(exponentOf(bytes, at('S_FPU_REGS') + p * 16));
    }
    return { control: v.getUint32(at('S_FPU_CONTROL'), true) & 0xffff, status, tag: v.getUint32(at('S_FPU_TAG'), true) & 0xffff, values, mantissas, exponents };
  }
}
