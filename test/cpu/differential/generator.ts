/**
 * Random instruction sequences for the differential test, generated from the opcode table:
 * every row with a `test` class can be chosen, its operands are encoded from the row's operand
 * specifiers, and its `flags`/`undef` fields say which EFLAGS bits the comparison may trust.
 *
 * Memory safety of the native run: a memory operand is aimed at a chosen address in the test
 * pages (layout.ts). The generator tracks which registers still hold the values it put there
 * (a register written by an instruction, explicitly through an operand or implicitly, becomes
 * unknown) and addresses memory only through known registers or absolute displacements. When a
 * row needs a register it does not know (ESI/EDI for strings, EBX for XLAT, the bit offset of
 * BT m,r), a MOV r32,imm32 (itself a tested row) is emitted first.
 *
 * Constraints, each because the result is undefined on the real CPU:
 *  - SHLD/SHRD with a 16-bit operand use counts 0..16 (a larger count leaves the result undefined);
 *  - no address-size prefix on instructions that access memory (16-bit addresses would reach
 *    the first 64 KiB, which neither side maps the same way); it is kept on LEA and on
 *    instructions without memory operands, where it still changes decoding;
 *  - no FS/GS overrides (their native bases point at the C library's thread data);
 *  - no REP prefix outside the string rows (F3 0F BC/BD are TZCNT/LZCNT on this host);
 *  - EFLAGS start with TF and AC clear (single-step and alignment checks are not compared).
 * x87 and MMX rows (test classes 'x87' and 'mmx'): the FPU starts from FNINIT and the case's
 * control word (any rounding, precision 24/53/64 bits, sometimes exceptions unmasked) on both
 * sides; control and state instructions come from fpu-state.ts; an x87 instruction is generated
 * only where WebHVM's precision model is exact for the values it can meet (fpu-model.ts tracks
 * them and may store a chosen value before a load); FBLD only reads valid BCD digits (other
 * digits give an undefined result).
 */
import { opcodeTable, opcodeRange, type OpcodeRow } from '../../../wasm/table/index.ts';
import { parseOperand, type Operand } from '../../../wasm/table/operands.ts';
import { CODE_PAGE, DATA, DATA_SIZE, GUARD_HI, GUARD_LO, MAX_CODE, RO_PAGE, flagMask } from './layout.ts';
import { FpuModel, storedControl, type PrepStore } from './fpu-model.ts';
import { chooseControl, generateFpuState } from './fpu-state.ts';

export type TestClass = 'int' | 'string' | 'bcd' | 'x87' | 'mmx';
export const ALL_CLASSES: TestClass[] = ['int', 'string', 'bcd', 'x87', 'mmx'];

/** What an instruction does to EFLAGS: bits written, the subset left undefined, and whether it surely writes. */
export interface FlagEffect {
  written: number;
  undef: number;
  certain: boolean;
}

export interface GeneratedInstruction {
  /** Offset from CODE_PAGE. */
  offset: number;
  bytes: number[];
  row: OpcodeRow;
  flags: FlagEffect;
  /** A helper store that completes the instruction before it (the scrub after a state save). */
  completes?: boolean;
}

export interface TestCase {
  index: number;
  code: Uint8Array;
  instructions: GeneratedInstruction[];
  /** EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI. */
  regs: number[];
  eflags: number;
  /** Seed of the data pages' contents (fillData). */
  seed: number;
  /** x87 control word loaded after FNINIT, or 0 for none. */
  fpuControl: number;
}

export interface GeneratorOptions {
  classes?: TestClass[];
  /** Instructions per sequence (helper MOVs included). */
  length?: number;
  /** Probability that a memory operand is aimed at a page where the access faults. */
  faultRate?: number;
}

// ---- Random numbers (reproducible from the seed) ----

export class Random {
  private s: number;
  constructor(seed: number) {
    this.s = (seed >>> 0) ^ 0x6d2b79f5;
  }
  /** mulberry32 */
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  below(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.below(a.length)];
  }
  /** A 32-bit value biased towards the edges where flags change. */
  interesting(): number {
    switch (this.below(12)) {
      case 0: return 0;
      case 1: return 1;
      case 2: return 0xffffffff;
      case 3: return 0x7fffffff;
      case 4: return 0x80000000;
      case 5: return this.below(256);
      case 6: return (0x80 + this.below(3) - 1) >>> 0;
      case 7: return (0x8000 + this.below(3) - 1) >>> 0;
      case 8: return (0 - this.below(256)) >>> 0;
      case 9: return (this.u32() & 0x0f0f0f0f) >>> 0; // BCD-ish nibbles
      default: return this.u32();
    }
  }
}

// ---- Rows that can be generated ----

interface Template {
  row: OpcodeRow;
  ops: Operand[];
  sizeDependent: boolean;
  hasModrm: boolean;
}

/** Row registers written implicitly (not through an operand), by mnemonic. */
const IMPLICIT_WRITES: Record<string, number[]> = {
  MUL: [0, 2], DIV: [0, 2], IDIV: [0, 2], CBW: [0], CWD: [2], DAA: [0], DAS: [0], AAA: [0], AAS: [0],
  AAM: [0], AAD: [0], LAHF: [0], SALC: [0], XLAT: [0], CMPXCHG: [0], CMPXCHG8B: [0, 2], CPUID: [0, 1, 2, 3],
};
const STRING_KIND: Record<string, { src: boolean; dst: boolean; acc: boolean; compare: boolean }> = {
  MOVS: { src: true, dst: true, acc: false, compare: false },
  CMPS: { src: true, dst: true, acc: false, compare: true },
  STOS: { src: false, dst: true, acc: false, compare: false },
  LODS: { src: true, dst: false, acc: true, compare: false },
  SCAS: { src: false, dst: true, acc: false, compare: true },
};
const SHIFTS = new Set(['ROL', 'ROR', 'RCL', 'RCR', 'SHL', 'SHR', 'SAL', 'SAR', 'SHLD', 'SHRD']);

export function isWritten(exec: string, n: number): boolean {
  return new RegExp(`\\$${n}\\s*=(?!=)`).test(exec);
}

function stringKind(row: OpcodeRow) {
  return STRING_KIND[row.mnemonic.replace(/B$/, '')];
}

/** Rows the generator can produce for these classes, and the rows it had to leave out (with why). */
export function generatableRows(classes: TestClass[] = ALL_CLASSES): { templates: Template[]; skipped: string[] } {
  const templates: Template[] = [];
  const skipped: string[] = [];
  for (const row of opcodeTable) {
    if (!row.test || !classes.includes(row.test)) continue;
    let ops: Operand[];
    try {
      ops = (row.operands ?? []).map(parseOperand);
    } catch (e) {
      skipped.push(`${row.mnemonic}: ${(e as Error).message}`);
      continue;
    }
    if (ops.some((o) => 'JASCDR'.includes(o.kind) && o.kind !== 'R')) {
      skipped.push(`${row.mnemonic}: control transfer or system operand`);
      continue;
    }
    if (row.test === 'string' && !stringKind(row)) {
      skipped.push(`${row.mnemonic}: string row without a known shape`);
      continue;
    }
    const sizeDependent = (row.operands ?? []).some((s) => /v|z|bs|p|Ma|Ms/.test(s) || s === 'eAX') || /\$O|\$S/.test(row.exec);
    const hasModrm = row.ext !== undefined || ops.some((o) => 'EGMRSCD'.includes(o.kind));
    templates.push({ row, ops, sizeDependent, hasModrm });
  }
  return { templates, skipped };
}

// ---- Sequence generation ----

const REG8_OWNER = [0, 1, 2, 3, 0, 1, 2, 3];

class SequenceBuilder {
  readonly known: (number | undefined)[];
  readonly instructions: GeneratedInstruction[] = [];
  offset = 0;

  constructor(private readonly rnd: Random, regs: number[], private readonly faultRate: number) {
    this.known = regs.slice();
  }

  /** EFLAGS bits that are undefined at this point of the sequence (see compare.ts). */
  undefinedFlags = 0;

  emit(bytes: number[], row: OpcodeRow, flags: FlagEffect, writes: number[]): void {
    this.instructions.push({ offset: this.offset, bytes, row, flags });
    this.undefinedFlags = flags.certain ? (this.undefinedFlags & ~flags.written) | flags.undef : this.undefinedFlags | flags.undef;
    this.offset += bytes.length;
    for (const r of writes) this.known[r] = undefined;
  }

  /** MOV r32, imm32 (opcode B8+r), a tested row, used to give a register a known pointer. */
  loadRegister(reg: number, value: number): void {
    const row = movImmRow;
    this.instructions.push({ offset: this.offset, bytes: [0xb8 + reg, ...le(value, 4)], row, flags: NO_FLAGS });
    this.offset += 5;
    this.known[reg] = value >>> 0;
  }

  /** An address for a memory access of `size` bytes: usually in the data pages, sometimes where it faults. */
  target(size: number, write: boolean): number {
    const r = this.rnd;
    if (r.chance(this.faultRate)) {
      switch (r.below(4)) {
        case 0: return GUARD_LO + r.below(0x1000 - size + 1);
        case 1: return GUARD_HI + r.below(0x1000 - size + 1);
        case 2: return RO_PAGE + r.below(0x1000 - size + 1); // faults for writes only
        default: return DATA - r.below(size - 1 || 1) - (size > 1 ? 1 : 0) + (size > 1 ? 0 : 0); // crosses into the low guard
      }
    }
    if (!write && r.chance(0.05)) return RO_PAGE + r.below(0x1000 - size + 1);
    if (size > 1 && r.chance(0.05)) return DATA + 0x1000 - 1 - r.below(size - 1); // crosses the middle page boundary
    let a = DATA + r.below(DATA_SIZE - size + 1);
    if (r.chance(0.5)) a &= ~(Math.min(size, 8) - 1);
    return a >>> 0;
  }

  /** ModRM (+SIB, displacement) addressing `ea` with 32-bit addressing; `reg` goes into ModRM.reg. */
  encodeMemory(reg: number, ea: number, anyRegisters: boolean): number[] {
    const r = this.rnd;
    const usable = [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => anyRegisters || this.known[i] !== undefined);
    const value = (i: number) => this.known[i] ?? r.interesting();
    const form = usable.length === 0 ? 0 : r.below(usable.length > 1 ? 4 : 3);
    if (form === 0) return [(reg << 3) | 5, ...le(ea, 4)];
    if (form === 1 || form === 2) {
      const base = r.pick(usable);
      const disp = (ea - value(base)) | 0;
      let mod = disp === 0 && base !== 5 && r.chance(0.5) ? 0 : disp >= -128 && disp <= 127 ? 1 : 2;
      if (form === 2 && mod === 1 && r.chance(0.3)) mod = 2;
      const dispBytes = mod === 0 ? [] : mod === 1 ? [disp & 0xff] : le(disp, 4);
      if (base === 4) return [(mod << 6) | (reg << 3) | 4, 0x24 | (r.below(4) << 6), ...dispBytes];
      return [(mod << 6) | (reg << 3) | base, ...dispBytes];
    }
    // SIB with an index register.
    const index = r.pick(usable.filter((i) => i !== 4).length ? usable.filter((i) => i !== 4) : [5]);
    if (this.known[index] === undefined && !anyRegisters) return [(reg << 3) | 5, ...le(ea, 4)];
    const scale = r.below(4);
    const noBase = r.chance(0.2);
    const base = noBase ? 5 : r.pick(usable);
    const sum = ((noBase ? 0 : value(base)) + Math.imul(value(index), 1 << scale)) | 0;
    const disp = (ea - sum) | 0;
    const sib = (scale << 6) | (index << 3) | base;
    if (noBase) return [(reg << 3) | 4, sib, ...le(disp, 4)];
    const mod = disp === 0 && base !== 5 && r.chance(0.5) ? 0 : disp >= -128 && disp <= 127 ? 1 : 2;
    return [(mod << 6) | (reg << 3) | 4, sib, ...(mod === 0 ? [] : mod === 1 ? [disp & 0xff] : le(disp, 4))];
  }
}

/**
 * Flags an instruction reads, by mnemonic: an instruction that reads a flag left undefined by
 * an earlier one would turn undefined flags into defined registers or memory, so the generator
 * first defines all arithmetic flags with a CMP.
 */
function flagsRead(row: OpcodeRow, opcode: number): number {
  const m = row.mnemonic;
  if (m === 'CMOVcc' || m === 'SETcc' || m.startsWith('FCMOV')) return [0x800, 0x1, 0x40, 0x41, 0x80, 0x4, 0x880, 0x8c0][(opcode & 15) >> 1];
  if (m === 'ADC' || m === 'SBB' || m === 'RCL' || m === 'RCR' || m === 'CMC' || m === 'SALC') return 0x1;
  if (m === 'DAA' || m === 'DAS' || m === 'AAA' || m === 'AAS') return 0x11;
  if (m === 'LAHF' || m === 'PUSHF') return 0xd5;
  return 0;
}

const NO_FLAGS: FlagEffect = { written: 0, undef: 0, certain: true };
const cmpRow = opcodeTable.find((r) => r.mnemonic === 'CMP' && r.ext === 7 && opcodeRange(r)[0] === 0x81)!;
const movStoreRow = opcodeTable.find((r) => r.mnemonic === 'MOV' && r.ext === 0 && opcodeRange(r)[0] === 0xc7)!;

/** MOV dword [addr], imm32 (and MOV word [addr], imm16 for a 2-byte tail) storing `prep`. */
function emitPrepStore(b: SequenceBuilder, prep: PrepStore): void {
  for (let i = 0; i < prep.bytes.length; i += 4) {
    const chunk = [...prep.bytes.subarray(i, i + 4)];
    const head = chunk.length === 4 ? [0xc7, 0x05] : [0x66, 0xc7, 0x05];
    b.emit([...head, ...le(prep.addr + i, 4), ...chunk], movStoreRow, NO_FLAGS, []);
  }
}
const movImmRow = opcodeTable.find((r) => opcodeRange(r)[0] <= 0xb8 && opcodeRange(r)[1] >= 0xb8)!;

function le(v: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((v >>> (8 * i)) & 0xff);
  return out;
}

function immediateSize(op: Operand, o32: boolean): number {
  if (op.signExtended) return 1;
  if (op.size === 'v') return o32 ? 4 : 2;
  return (op.size as number) / 8;
}

function operandBits(op: Operand, o32: boolean): number {
  return op.size === 'v' ? (o32 ? 32 : 16) : (op.size as number);
}

/**
 * Generate one instruction of `t` (plus any helper MOVs it needs) into `b`. Returns false when
 * the x87 model refuses it (its helpers may have been emitted; the caller picks another row).
 */
function generateInstruction(b: SequenceBuilder, t: Template, rnd: Random, model?: FpuModel): boolean {
  const row = t.row;
  const [lo0, hi0] = opcodeRange(row);
  const opcode0 = lo0 + rnd.below(hi0 - lo0 + 1);
  if (flagsRead(row, opcode0) & b.undefinedFlags) {
    // CMP r32, imm32 (81 /7): defines OSZAPC, changes nothing else.
    const reg = rnd.below(8);
    b.emit([0x81, 0xf8 | reg, ...le(rnd.interesting(), 4)], cmpRow, rowFlags(cmpRow), []);
  }
  // Keep a few registers holding pointers, so memory operands use base and index registers.
  if (b.known.filter((v) => v !== undefined).length < 3 && rnd.chance(0.15)) {
    b.loadRegister(rnd.pick([3, 5, 6, 7, 0, 1, 2]), DATA + rnd.below(DATA_SIZE));
  }
  const prefixes: number[] = [];
  let o32 = !t.sizeDependent || !rnd.chance(0.4);
  const opcode = opcode0;
  const mnemonic = row.mnemonic;
  const str = row.test === 'string' ? stringKind(row) : undefined;
  const writes: number[] = [...(IMPLICIT_WRITES[mnemonic] ?? [])];
  if (mnemonic === 'IMUL' && t.ops.length === 1) writes.push(0, 2);

  // Strings: pointers in known registers inside the test pages; any count.
  if (str) {
    const elem = mnemonic.endsWith('B') ? 1 : o32 ? 4 : 2;
    const inPages = (v: number | undefined) => v !== undefined && v >= DATA && v + elem <= GUARD_HI;
    if (str.src && (!inPages(b.known[6]) || rnd.chance(0.3))) b.loadRegister(6, b.target(elem, false));
    if (str.dst && (!inPages(b.known[7]) || rnd.chance(0.3))) b.loadRegister(7, b.target(elem, true));
    let rep = 0;
    if (rnd.chance(0.6)) {
      rep = str.compare && rnd.chance(0.5) ? 0xf2 : 0xf3;
      if (rnd.chance(0.7)) b.loadRegister(1, rnd.below(rnd.chance(0.2) ? 300 : 12));
      prefixes.push(rep);
    }
    if (str.src && rnd.chance(0.2)) prefixes.push(rnd.pick([0x26, 0x36, 0x3e, 0x2e]));
    if (!o32) prefixes.push(0x66);
    rnd.chance(0.5) && prefixes.reverse();
    const count = b.known[1];
    let flags = rowFlags(row);
    if (rep && str.compare) flags = count === undefined ? { ...flags, certain: false } : count === 0 ? NO_FLAGS : flags;
    writes.push(...(str.src ? [6] : []), ...(str.dst ? [7] : []), ...(str.acc ? [0] : []), ...(rep ? [1] : []));
    if (str.dst && mnemonic !== 'CMPS' && mnemonic !== 'SCAS') model?.data.forget();
    b.emit([...prefixes, ...opcodeBytes(opcode)], row, flags, writes);
    return true;
  }

  // XLAT reads [EBX + AL].
  if (mnemonic === 'XLAT') {
    const ebx = b.known[3];
    const al = b.known[0];
    const ok = ebx !== undefined && (al !== undefined ? ebx + (al & 0xff) >= DATA && ebx + (al & 0xff) < GUARD_HI : ebx >= DATA && ebx + 255 < GUARD_HI);
    if (!ok || rnd.chance(0.2)) b.loadRegister(3, DATA + rnd.below(DATA_SIZE - 256));
    if (rnd.chance(0.2)) prefixes.push(rnd.pick([0x26, 0x36, 0x3e, 0x2e]));
    b.emit([...prefixes, ...opcodeBytes(opcode)], row, rowFlags(row), writes);
    return true;
  }

  // SHLD/SHRD with a 16-bit operand: keep the count in 0..16.
  const doubleShift = mnemonic === 'SHLD' || mnemonic === 'SHRD';
  if (doubleShift && !o32 && t.ops[2].kind === 'reg') {
    const cl = b.known[1];
    if (cl === undefined || (cl & 31) > 16) o32 = true;
  }

  // Operand encoding.
  const memIndex = t.ops.findIndex((o) => o.kind === 'M' || o.kind === 'O');
  let eIndex = t.ops.findIndex((o) => o.kind === 'E');
  let useMemory = memIndex >= 0;
  if (eIndex >= 0) {
    if (row.mod === 'mem') useMemory = true;
    else if (row.mod === 'reg') useMemory = false;
    else useMemory = rnd.chance(0.45);
  }
  const bitOffsetReg = row.bitOffset ? t.ops.findIndex((o) => o.kind === 'G') : -1;
  let regField = row.ext ?? rnd.below(8);
  if (useMemory && bitOffsetReg >= 0 && b.known[regField] === undefined) {
    const knownRegs = [0, 1, 2, 3, 4, 5, 6, 7].filter((i) => b.known[i] !== undefined);
    if (knownRegs.length) regField = rnd.pick(knownRegs);
    else useMemory = false;
  }
  const memoryOp = useMemory ? (memIndex >= 0 ? memIndex : eIndex) : -1;
  const memOperand = memoryOp >= 0 ? t.ops[memoryOp] : undefined;
  const noAccess = memOperand?.kind === 'M' && mnemonic === 'LEA';
  const accessBytes = !memOperand || noAccess ? 0 : memOperand.size === 64 ? 8 : memOperand.kind === 'M' && memOperand.size === 'v' ? 16 : operandBits(memOperand, o32) / 8;
  const memWrite = memOperand !== undefined && !noAccess && (isWritten(row.exec, memoryOp + 1) || mnemonic.startsWith('CMPXCHG'));

  let modrmBytes: number[] = [];
  let rmReg = row.rm ?? rnd.below(8);
  const fpuRow = row.test === 'x87' || row.test === 'mmx';
  let memEa: number | undefined;
  let prep: PrepStore | undefined;
  const addr16 = noAccess && rnd.chance(0.2);
  if (t.hasModrm) {
    if (!useMemory) {
      modrmBytes = [0xc0 | (regField << 3) | rmReg];
    } else if (addr16) {
      // LEA with 16-bit addressing computes an offset without touching memory.
      const mod = rnd.below(3);
      const rm = rnd.below(8);
      const disp = mod === 1 ? [rnd.below(256)] : mod === 2 || (mod === 0 && rm === 6) ? le(rnd.u32(), 2) : [];
      modrmBytes = [(mod << 6) | (regField << 3) | rm, ...disp];
    } else {
      let ea = noAccess ? rnd.interesting() : b.target(accessBytes, memWrite);
      if (bitOffsetReg >= 0) {
        // BT m,r addresses the dword (word) that holds bit `offset` of the operand at ea.
        const off = b.known[regField]!;
        const bitsize = o32 ? 32 : 16;
        const signed = o32 ? off | 0 : (off << 16) >> 16;
        ea = (ea - Math.floor(signed / bitsize) * (bitsize / 8)) >>> 0;
      }
      memEa = ea;
      const format = model && FpuModel.sourceFormat(row);
      if (model && format) prep = model.prepare(format, ea, rnd);
      modrmBytes = b.encodeMemory(regField, ea, noAccess);
    }
  }
  if (addr16) prefixes.push(0x67);
  if (useMemory && !noAccess && rnd.chance(0.15)) {
    const segs = memWrite && !rnd.chance(0.05) ? [0x26, 0x36, 0x3e] : [0x26, 0x36, 0x3e, 0x2e];
    prefixes.push(rnd.pick(segs));
  }
  if (!useMemory && memIndex < 0 && !str && rnd.chance(0.03)) prefixes.push(0x67);

  // Immediates and moffs in operand order.
  const tail: number[] = [];
  let immCount: number | undefined;
  t.ops.forEach((op, i) => {
    if (op.kind === 'I') {
      const n = immediateSize(op, o32);
      let v = n === 1 ? rnd.below(256) : rnd.interesting();
      if (SHIFTS.has(mnemonic)) {
        v = rnd.chance(0.8) ? rnd.below(34) : rnd.below(256);
        if (doubleShift && !o32) v = rnd.below(17) | (rnd.below(8) << 5);
        immCount = v;
      }
      tail.push(...le(v, n));
    } else if (op.kind === 'O') {
      tail.push(...le(b.target(operandBits(op, o32) / 8, i === 0), 4));
    }
  });
  if (SHIFTS.has(mnemonic) && t.ops.some((o) => o.kind === 'reg' && o.fixed === 1 && o.size === 8)) immCount = b.known[1];
  if (SHIFTS.has(mnemonic) && t.ops.some((o) => o.kind === 'one')) immCount = 1;

  // LOCK: valid on the memory forms of lockable rows; now and then an invalid one (#UD).
  if (row.lock && useMemory && rnd.chance(0.2)) prefixes.push(0xf0);
  else if (rnd.chance(0.0005)) prefixes.push(0xf0);
  if (!o32) prefixes.push(0x66);
  if (prefixes.length > 1 && rnd.chance(0.5)) prefixes.reverse();

  // Registers this instruction writes (explicit operands).
  t.ops.forEach((op, i) => {
    if (!isWritten(row.exec, i + 1)) return;
    const bits = operandBits(op, o32);
    const own = (r: number) => (bits === 8 ? REG8_OWNER[r] : r);
    if (op.kind === 'G') writes.push(own(regField));
    else if (op.kind === 'E' && !useMemory) writes.push(own(rmReg));
    else if (op.kind === 'R') writes.push(own(rmReg));
    else if (op.kind === 'Z') writes.push(own(opcode & 7));
    else if (op.kind === 'reg') writes.push(own(op.fixed!));
  });
  // x87/MMX rows write general registers through handlers rather than `$N =` templates.
  if (!useMemory && /ToReg\(\$rm/.test(row.exec)) writes.push(rmReg);
  if (/StatusAx\(/.test(row.exec)) writes.push(0);

  let flags = rowFlags(row);
  if (SHIFTS.has(mnemonic)) {
    if (immCount === undefined) flags = { ...flags, certain: false };
    else if ((immCount & 31) === 0) flags = NO_FLAGS;
  }
  if (model && fpuRow) {
    if (!model.step(row, { reg: regField, rm: rmReg, ea: useMemory ? memEa : undefined }, prep)) return false;
    if (prep) emitPrepStore(b, prep);
  } else if (model && memWrite) {
    model.data.forget();
  }
  b.emit([...prefixes, ...opcodeBytes(opcode), ...modrmBytes, ...tail], row, flags, writes);
  return true;
}

function rowFlags(row: OpcodeRow): FlagEffect {
  const undef = flagMask(row.undef);
  return { written: flagMask(row.flags) | undef, undef, certain: true };
}

function opcodeBytes(opcode: number): number[] {
  return opcode >= 0x100 ? [0x0f, opcode & 0xff] : [opcode];
}

/** Probability that an x87 case's next instruction is a control or state instruction (fpu-state.ts). */
const STATE_RATE = 0.05;

/** Generate `count` test cases from `seed`. */
export function generateCases(seed: number, count: number, options: GeneratorOptions = {}): TestCase[] {
  const { templates } = generatableRows(options.classes);
  if (!templates.length) throw new Error('no generatable rows for these classes');
  // An MMX instruction has eight rows (one per ModRM.reg) in each form: weigh it as one.
  const base = templates.map((t) => (/^(I?DIV)$/.test(t.row.mnemonic) ? 0.15 : t.row.test === 'mmx' ? 0.125 : 1));
  // With both x87 and MMX rows, a case is x87-only, MMX-only or mixed (MMX writes turn x87
  // registers into NaN encodings, so mixed cases alone would rarely do arithmetic on numbers).
  const mixes = [[1, 0], [0, 1], [1, 0.3]].map(([x87, mmx]) => {
    const weights = base.map((w, k) => w * (templates[k].row.test === 'x87' ? x87 : templates[k].row.test === 'mmx' ? mmx : 1));
    return { weights, total: weights.reduce((a, b) => a + b, 0) };
  });
  const length = options.length ?? 50;
  const rnd = new Random(seed);
  const cases: TestCase[] = [];
  const hasFpu = templates.some((t) => t.row.test === 'x87' || t.row.test === 'mmx');
  const hasX87 = templates.some((t) => t.row.test === 'x87');
  const bothFpu = hasX87 && templates.some((t) => t.row.test === 'mmx');
  for (let index = 0; index < count; index++) {
    // With x87/MMX rows the data seed is drawn first: the x87 model needs the data pages' contents.
    const dataSeed = hasFpu ? rnd.u32() || 1 : 0;
    const mixIndex = bothFpu ? [0, 0, 0, 0, 0, 1, 1, 2, 2, 2][rnd.below(10)] : 2;
    const mix = mixes[mixIndex];
    // x87 cases start under any rounding and precision control, now and then with exceptions unmasked.
    const withX87 = hasX87 && mixIndex !== 1;
    const control = withX87 && rnd.chance(0.6) ? storedControl(chooseControl(rnd, rnd.chance(0.2))) : 0x027f;
    const model = hasFpu ? new FpuModel(dataSeed, control) : undefined;
    const { weights, total } = mix.total > 0 ? mix : mixes[2];
    const regs: number[] = [];
    for (let i = 0; i < 8; i++) {
      const pointer = i >= 3 && i !== 4 ? rnd.chance(0.8) : rnd.chance(0.2);
      regs.push(pointer ? DATA + rnd.below(DATA_SIZE) : rnd.interesting());
    }
    const eflags = (0x202 | (rnd.u32() & 0x8d5) | (rnd.chance(0.25) ? 0x400 : 0)) >>> 0;
    const b = new SequenceBuilder(rnd, regs, options.faultRate ?? 0.003);
    while (b.instructions.length < length && b.offset < MAX_CODE - 64) {
      let x = rnd.u32() / 0x1_0000_0000 * total;
      let k = 0;
      while (k < templates.length - 1 && x >= weights[k]) x -= weights[k++];
      // Control and state instructions (FLDCW, FSTENV/FLDENV, FSAVE/FRSTOR, FXSAVE/FXRSTOR, FNINIT).
      if (withX87 && model && rnd.chance(STATE_RATE)) generateFpuState(b, rnd, model);
      else generateInstruction(b, templates[k], rnd, model);
    }
    const code = new Uint8Array(b.offset + 1);
    for (const ins of b.instructions) code.set(ins.bytes, ins.offset);
    code[b.offset] = 0xf4; // HLT: #GP(0) in ring 3 ends the case on both sides
    cases.push({ index, code, instructions: b.instructions, regs, eflags, seed: hasFpu ? dataSeed : rnd.u32() || 1, fpuControl: hasFpu ? control : 0 });
  }
  return cases;
}

export { CODE_PAGE };
