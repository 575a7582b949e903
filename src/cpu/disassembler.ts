/**
 * An x86 disassembler derived from the CPU's opcode table (wasm/table): the same rows that
 * generate the interpreter's dispatch decide what each byte sequence is, so a row added to the
 * table is disassembled without further work. Output is Intel syntax as nasm writes it
 * (`add dword [es:ebx+esi*4+0x10], 0x1`), for 16- and 32-bit code, with every prefix shown:
 * LOCK/REP/REPE/REPNE by name, segment overrides inside the memory operand (or as a prefix
 * word when there is none), and operand/address-size prefixes as o16/o32/a16/a32 when the
 * operands do not already show them. x87 and MMX register operands (ST(i) written st0-st7 and
 * MM0-MM7 written mm0-mm7, as nasm spells them) come from the registers the row's x87/MMX call
 * takes ($reg, $rm), since the table gives those rows no operand specifiers for them.
 */
import { opcodeTable, opcodeRange, type OpcodeRow } from '../../wasm/table/index.ts';
import { parseOperand, type Operand } from '../../wasm/table/operands.ts';

export interface Instruction {
  /** Bytes consumed (prefixes, opcode, ModRM, SIB, displacement, immediates). */
  length: number;
  /** Intel-syntax text, e.g. `rep movsd` or `mov eax, dword [ebx+0x4]`. */
  text: string;
  /** The opcode-table row, or undefined for bytes the table does not define. */
  row?: OpcodeRow;
}

export interface DisassembleOptions {
  /** Default operand and address size of the code segment. */
  bits?: 16 | 32;
  /** Address (EIP) of the first byte, for relative branch targets. */
  address?: number;
}

interface Entry {
  row: OpcodeRow;
  ops: Operand[];
}

const REG32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const REG16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const REG8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];
const SEGS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'seg6', 'seg7'];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const SEG_PREFIX: Record<number, number> = { 0x26: 0, 0x2e: 1, 0x36: 2, 0x3e: 3, 0x64: 4, 0x65: 5 };
const STRING_OPS = new Set(['INS', 'OUTS', 'MOVS', 'CMPS', 'STOS', 'LODS', 'SCAS']);

let index: Map<number, Entry[]> | undefined;

function table(): Map<number, Entry[]> {
  if (index) return index;
  index = new Map();
  for (const row of opcodeTable) {
    let ops: Operand[];
    try {
      ops = (row.operands ?? []).map(parseOperand);
    } catch {
      continue; // a row whose operands this table version cannot parse is not disassembled
    }
    const [lo, hi] = opcodeRange(row);
    for (let op = lo; op <= hi; op++) {
      if (!index.has(op)) index.set(op, []);
      index.get(op)!.push({ row, ops });
    }
  }
  return index;
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}

function regName(n: number, bits: number): string {
  return bits === 8 ? REG8[n] : bits === 16 ? REG16[n] : REG32[n];
}

function sizeKeyword(bits: number): string {
  return bits === 8 ? 'byte' : bits === 16 ? 'word' : bits === 32 ? 'dword' : bits === 64 ? 'qword' : bits === 80 ? 'tword' : '';
}

function needsModrm(e: Entry): boolean {
  return e.row.ext !== undefined || e.ops.some((o) => 'EGMRSCD'.includes(o.kind));
}

/** The x87 or MMX call of a row's exec (`fpuArithReg(0, $rm, true, false, ...)`), if it has one. */
function fpuCall(row: OpcodeRow): { name: string; args: string[] } | undefined {
  const m = /(?:^|;\s*)(fpu\w+|mmx\w+|emms)\(([^)]*(?:\([^)]*\)[^)]*)*)\);/.exec(row.exec.replace(/^mmxEnter\(\);\s*/, ''));
  return m ? { name: m[1], args: m[2].split(/,\s*(?![^(]*\))/) } : undefined;
}

// Memory formats of wasm/fpu-memory.ts (FMT_*) and their nasm size keywords.
const FPU_FORMAT_SIZE = ['dword', 'qword', 'dword', 'word', 'tword', 'qword', 'tword'];

/**
 * Operands of an x87 or MMX row: ST(i) for x87 register forms, MMn and general registers for
 * MMX, the memory operand with its size (`mem` is its bracketed text, `imm` the immediates).
 * Undefined for rows without an x87/MMX call.
 */
function fpuOperands(row: OpcodeRow, modrm: number, mem: string, imm: string[]): string[] | undefined {
  const call = fpuCall(row);
  if (!call) return undefined;
  const reg = (modrm >> 3) & 7;
  const rm = modrm & 7;
  const st = (s: string) => `st${s === '$rm' ? rm : Number(s)}`;
  const a = call.args;
  switch (call.name) {
    case 'fpuArithReg': return a[2] === 'true' ? [st(a[1]), 'st0'] : ['st0', st(a[1])];
    case 'fpuCmov': return ['st0', st(a[1])];
    case 'fpuComi': return ['st0', st(a[0])];
    case 'fpuCompareReg': return a[0] === '$rm' ? [st(a[0])] : [];
    case 'fpuLoadReg': case 'fpuExchange': case 'fpuStoreReg': case 'fpuFree': return [st(a[0])];
    case 'fpuLoadMem': return [`${FPU_FORMAT_SIZE[Number(a[0])]} ${mem}`];
    case 'fpuArithMem': return [`${FPU_FORMAT_SIZE[Number(a[0])]} ${mem}`];
    case 'fpuStoreMem': return [`${FPU_FORMAT_SIZE[Number(a[0])]} ${mem}`];
    case 'fpuStoreControl': case 'fpuStoreStatus': case 'fpuLoadControl': return [`word ${mem}`];
    case 'fpuStoreStatusAx': return ['ax'];
    case 'mmxShiftImm': return [`mm${rm}`, ...imm];
    case 'mmxMovdToReg': return [REG32[rm], `mm${reg}`];
    case 'mmxStore': return [`${a[3] === '4' ? 'dword' : 'qword'} ${mem}`, `mm${reg}`];
    case 'mmxCopy': return [`mm${a[0] === '$rm' ? rm : reg}`, `mm${a[0] === '$rm' ? reg : rm}`];
    case 'mmxMove': case 'mmxBinary': {
      const src = call.name === 'mmxMove' ? a[1] : a[2];
      // nasm takes the 32-bit sources of PUNPCKL* as bare memory operands (the register sets the size).
      const source = src.startsWith('mmxReg32') ? REG32[rm] : src.startsWith('mmxGet') ? `mm${rm}`
        : src.startsWith('mmxLoad64') ? `qword ${mem}` : call.name === 'mmxMove' ? `dword ${mem}` : mem;
      return [`mm${reg}`, source];
    }
    default: return undefined; // no register operands (FCHS, EMMS, ...) or the row's own (FLDENV m)
  }
}

/** Disassemble one instruction at `offset` of `bytes`. */
export function disassemble(bytes: Uint8Array, offset = 0, options: DisassembleOptions = {}): Instruction {
  const bits = options.bits ?? 32;
  let p = offset;
  const byte = (): number => {
    if (p >= bytes.length) throw new RangeError('truncated');
    return bytes[p++];
  };
  const word = () => byte() | (byte() << 8);
  const dword = () => (word() | (word() << 16)) >>> 0;
  const bad = (): Instruction => ({ length: 1, text: `db ${hex(bytes[offset])}` });
  try {
    let opsizePrefix = false;
    let addrsizePrefix = false;
    let seg = -1;
    let rep = 0;
    let lock = false;
    let b: number;
    for (let n = 0; ; n++) {
      if (n >= 14) return bad();
      b = byte();
      if (b in SEG_PREFIX) seg = SEG_PREFIX[b];
      else if (b === 0x66) opsizePrefix = true;
      else if (b === 0x67) addrsizePrefix = true;
      else if (b === 0xf0) lock = true;
      else if (b === 0xf2 || b === 0xf3) rep = b;
      else break;
    }
    const o32 = (bits === 32) !== opsizePrefix;
    const a32 = (bits === 32) !== addrsizePrefix;
    let opcode = b;
    if (b === 0x0f) opcode = 0x100 | byte();
    const entries = table().get(opcode);
    if (!entries) return bad();
    let modrm = -1;
    let entry: Entry | undefined;
    if (entries.some(needsModrm)) {
      modrm = byte();
      const reg = (modrm >> 3) & 7;
      const isReg = modrm >= 0xc0;
      const candidates = entries.filter((e) => e.row.ext === undefined || e.row.ext === reg)
        .filter((e) => !(e.row.mod === 'mem' && isReg) && !(e.row.mod === 'reg' && !isReg))
        .filter((e) => e.row.rm === undefined || (isReg && (modrm & 7) === e.row.rm));
      entry = candidates.find((e) => e.row.rm !== undefined) ?? candidates[0];
    } else {
      entry = entries[0];
    }
    if (!entry) return bad();
    const { row, ops } = entry;
    const opBits = (op: Operand) => (op.size === 'v' ? (o32 ? 32 : 16) : (op.size as number));

    // Memory operand (ModRM with mod != 3).
    let memText = '';
    let hasMemory = false;
    const segText = (def: string) => (seg >= 0 ? `${SEGS[seg]}:` : def ? '' : '');
    if (modrm >= 0 && modrm < 0xc0) {
      hasMemory = true;
      const mod = modrm >> 6;
      const rm = modrm & 7;
      const parts: string[] = [];
      let disp = 0;
      if (a32) {
        if (rm === 4) {
          const sib = byte();
          const base = sib & 7;
          const idx = (sib >> 3) & 7;
          if (base === 5 && mod === 0) disp = dword() | 0;
          else parts.push(REG32[base]);
          if (idx !== 4) parts.push(`${REG32[idx]}${sib >> 6 ? `*${1 << (sib >> 6)}` : ''}`);
        } else if (rm === 5 && mod === 0) {
          disp = dword() | 0;
        } else {
          parts.push(REG32[rm]);
        }
        if (mod === 1) disp = (byte() << 24) >> 24;
        else if (mod === 2) disp = dword() | 0;
      } else {
        const forms = [['bx', 'si'], ['bx', 'di'], ['bp', 'si'], ['bp', 'di'], ['si'], ['di'], ['bp'], ['bx']];
        if (rm === 6 && mod === 0) disp = word();
        else parts.push(...forms[rm]);
        if (mod === 1) disp = (byte() << 24) >> 24;
        else if (mod === 2) disp = word();
      }
      let inner = parts.join('+');
      if (!parts.length) inner = hex(a32 ? disp : disp & 0xffff);
      else if (disp > 0) inner += `+${hex(disp)}`;
      else if (disp < 0) inner += `-${hex(-disp)}`;
      memText = `[${segText('')}${inner}]`;
    }

    // Operands in order; immediates follow the ModRM bytes.
    const texts: string[] = [];
    let sizeShown = false;
    for (const op of ops) {
      const n = opBits(op);
      switch (op.kind) {
        case 'E': case 'M': case 'R':
          if (modrm >= 0xc0) {
            texts.push(regName(modrm & 7, op.kind === 'R' ? 32 : n));
            sizeShown = true;
          } else {
            const keyword = op.kind === 'M' ? (op.size === 64 ? 'qword ' : '') : `${sizeKeyword(n)} `;
            texts.push(`${keyword}${memText}`);
            if (keyword) sizeShown = true;
          }
          break;
        case 'G': texts.push(regName((modrm >> 3) & 7, n)); sizeShown = true; break;
        case 'Z': texts.push(regName(opcode & 7, n)); sizeShown = true; break;
        case 'reg': texts.push(regName(op.fixed!, n)); sizeShown = true; break;
        case 'seg': texts.push(SEGS[op.fixed!]); break;
        case 'S': texts.push(SEGS[(modrm >> 3) & 7]); break;
        case 'C': texts.push(`cr${(modrm >> 3) & 7}`); break;
        case 'D': texts.push(`dr${(modrm >> 3) & 7}`); break;
        case 'one': texts.push('1'); break;
        case 'I': {
          let v: number;
          if (op.signExtended) v = ((byte() << 24) >> 24) & (o32 ? 0xffffffff : 0xffff);
          else v = n === 8 ? byte() : n === 16 ? word() : dword();
          texts.push(hex(v));
          break;
        }
        case 'J': {
          const rel = op.size === 8 ? (byte() << 24) >> 24 : o32 ? dword() | 0 : (word() << 16) >> 16;
          const next = (options.address ?? 0) + (p - offset);
          texts.push(hex(o32 ? next + rel : (next + rel) & 0xffff));
          break;
        }
        case 'A': {
          const off = o32 ? dword() : word();
          texts.push(`${hex(word())}:${hex(off)}`);
          break;
        }
        case 'O': {
          hasMemory = true;
          const addr = a32 ? dword() : word();
          texts.push(`${sizeKeyword(n)} [${segText('')}${hex(addr)}]`);
          sizeShown = true;
          break;
        }
        case 'X': break;
      }
    }

    const fpuTexts = fpuOperands(row, modrm, memText, ops.map((o, i) => (o.kind === 'I' ? texts[i] : '')).filter((t) => t));
    if (fpuTexts) texts.splice(0, texts.length, ...fpuTexts);

    // Mnemonic.
    let mn = row.mnemonic.toLowerCase();
    const base = row.mnemonic.replace(/B$/, '');
    const isString = STRING_OPS.has(base) && ops.some((o) => o.kind === 'X');
    if (mn.endsWith('cc')) mn = mn.slice(0, -2) + CC[opcode & 15];
    else if (isString && !row.mnemonic.endsWith('B')) mn += o32 ? 'd' : 'w';
    else if (row.mnemonic === 'CBW') mn = o32 ? 'cwde' : 'cbw';
    else if (row.mnemonic === 'CWD') mn = o32 ? 'cdq' : 'cwd';
    else if (row.mnemonic === 'JCXZ') mn = a32 ? 'jecxz' : 'jcxz';
    else if (['PUSHA', 'POPA', 'PUSHF', 'POPF', 'IRET'].includes(row.mnemonic)) mn += o32 ? 'd' : '';
    else if (row.mnemonic === 'CALLF' || row.mnemonic === 'JMPF') mn = `${mn.slice(0, -1)} far`;
    else if (row.mnemonic === 'INT3') mn = 'int3';

    const words: string[] = [];
    if (lock) words.push('lock');
    if (rep) words.push(isString && (base === 'CMPS' || base === 'SCAS') ? (rep === 0xf3 ? 'repe' : 'repne') : rep === 0xf3 ? 'rep' : 'repne');
    if (seg >= 0 && !hasMemory) words.push(SEGS[seg]);
    const sizeDependent = ops.some((o) => o.size === 'v') || isString || /\$O/.test(row.exec);
    const sizeVisible = isString || ['CBW', 'CWD', 'PUSHA', 'POPA', 'PUSHF', 'POPF', 'IRET'].includes(row.mnemonic) ||
      (sizeShown && ops.some((o) => o.size === 'v' && o.kind !== 'I'));
    if (opsizePrefix && !(sizeDependent && sizeVisible)) words.push(o32 ? 'o32' : 'o16');
    const addressVisible = (hasMemory && modrm >= 0) || row.mnemonic === 'JCXZ';
    if (addrsizePrefix && !addressVisible) words.push(a32 ? 'a32' : 'a16');
    words.push(mn);
    const text = texts.length ? `${words.join(' ')} ${texts.join(', ')}` : words.join(' ');
    return { length: p - offset, text, row };
  } catch (e) {
    if (e instanceof RangeError) return { length: bytes.length - offset, text: `(truncated) db ${[...bytes.subarray(offset)].map(hex).join(', ')}` };
    throw e;
  }
}

/** Disassemble a whole buffer; one line per instruction with its address and bytes. */
export function disassembleAll(bytes: Uint8Array, options: DisassembleOptions = {}): { address: number; bytes: Uint8Array; text: string }[] {
  const out: { address: number; bytes: Uint8Array; text: string }[] = [];
  const start = options.address ?? 0;
  for (let off = 0; off < bytes.length;) {
    const ins = disassemble(bytes, off, { ...options, address: start + off });
    out.push({ address: start + off, bytes: bytes.subarray(off, off + ins.length), text: ins.text });
    off += ins.length;
  }
  return out;
}
