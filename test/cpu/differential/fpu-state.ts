/**
 * x87 control and state instructions for the differential test's random sequences: FLDCW with
 * any rounding control, precision control 24/53/64 bits and exception masks (some unmasked, so
 * later instructions raise #MF), FNSTENV/FLDENV and FNSAVE/FRSTOR in their 16- and 32-bit
 * layouts, FXSAVE/FXRSTOR and FNINIT. Their table rows have no test class (they need chosen
 * operands); this file gives them their operands and keeps the x87 model (fpu-model.ts) informed.
 *
 * Loaded images are either what an earlier save in the sequence wrote (a round trip) or an image
 * prepared with MOV stores. A prepared status word always has ES and B consistent with its
 * exception flags and the control word: with ES set and no unmasked flag, the #MF would carry no
 * cause and the host kernel retries the instruction forever.
 *
 * Saved images hold fields that depend on the host rather than on the sequence; after each save
 * the generator overwrites them with MOV stores of fixed values, so the memory comparison stays
 * exact everywhere else (SCRUBBED below says which and why).
 */
import { opcodeTable, opcodeRange, type OpcodeRow } from '../../../wasm/table/index.ts';
import type { GeneratedInstruction, Random } from './generator.ts';
import { chosenBytes, imageSize, storedControl, type FpuModel } from './fpu-model.ts';
import { DATA, DATA_SIZE } from './layout.ts';

/** What the state generator needs of the sequence builder (generator.ts). */
export interface Builder {
  readonly instructions: GeneratedInstruction[];
  emit(bytes: number[], row: OpcodeRow, flags: GeneratedInstruction['flags'], writes: number[]): void;
  encodeMemory(reg: number, ea: number, anyRegisters: boolean): number[];
  target(size: number, write: boolean): number;
}

const NO_FLAGS = { written: 0, undef: 0, certain: true };

function row(opcode: number, ext: number, mod: 'mem' | 'reg', rm?: number): OpcodeRow {
  const r = opcodeTable.find((x) => opcodeRange(x)[0] === opcode && x.ext === ext && x.mod === mod && (rm === undefined || x.rm === rm));
  if (!r) throw new Error(`no opcode row ${opcode.toString(16)} /${ext}`);
  return r;
}

const ROWS = {
  fldcw: row(0xd9, 5, 'mem'), fldenv: row(0xd9, 4, 'mem'), fnstenv: row(0xd9, 6, 'mem'),
  frstor: row(0xdd, 4, 'mem'), fnsave: row(0xdd, 6, 'mem'),
  fxsave: row(0x1ae, 0, 'mem'), fxrstor: row(0x1ae, 1, 'mem'), fninit: row(0xdb, 4, 'reg', 3),
  movStore: opcodeTable.find((r) => r.mnemonic === 'MOV' && r.ext === 0 && opcodeRange(r)[0] === 0xc7)!,
};

/**
 * Fields of saved images that the comparison cannot use, as [offset, bytes] per image kind:
 *  - the instruction and operand pointers (FIP, FCS, FOP, FDP, FDS): the host's selectors differ
 *    from the test machine's (a Linux process runs with CS 0x23, the emulator's ring 3 with 0x1B);
 *    AMD processors store FIP/FDP/FOP only while an exception is pending (FXSAVE) and the kernel's
 *    context switches (XSAVE/XRSTOR) need not preserve them;
 *  - MXCSR_MASK: the host's SSE features (DAZ and later bits), not the emulated Pentium II's.
 */
export const SCRUBBED: Record<'env16' | 'env32' | 'fx', [number, number][]> = {
  env16: [[6, 2], [8, 2], [10, 2], [12, 2]],
  env32: [[12, 4], [16, 4], [20, 4], [24, 4]],
  fx: [[4, 4], [8, 4], [12, 4], [16, 4], [20, 4], [28, 4]],
};

function le(v: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((v >>> (8 * i)) & 0xff);
  return out;
}

/** MOV dword/word [addr], imm with the model told the bytes. */
function store(b: Builder, model: FpuModel, addr: number, value: number, n: 2 | 4): void {
  const head = n === 4 ? [0xc7, 0x05] : [0x66, 0xc7, 0x05];
  const bytes = le(value, n);
  b.emit([...head, ...le(addr, 4), ...bytes], ROWS.movStore, NO_FLAGS, []);
  model.data.write(addr, n, Uint8Array.from(bytes));
}

/** Store bytes (any length) with dword stores and a word tail. */
function storeBytes(b: Builder, model: FpuModel, addr: number, bytes: Uint8Array): void {
  for (let i = 0; i < bytes.length; i += 4) {
    const n = Math.min(4, bytes.length - i);
    const v = bytes[i] | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16) | ((bytes[i + 3] ?? 0) << 24);
    if (n >= 4) store(b, model, addr + i, v >>> 0, 4);
    else {
      store(b, model, addr + i, v & 0xffff, 2);
      if (n === 3) throw new Error('odd byte count');
    }
  }
}

/** An x87 memory instruction with a 16- or 32-bit operand size. */
function emitMemory(b: Builder, model: FpuModel, r: OpcodeRow, ea: number, o32: boolean): void {
  const ext = r.ext!;
  const opcode = opcodeRange(r)[0];
  const opBytes = opcode >= 0x100 ? [0x0f, opcode & 0xff] : [opcode];
  b.emit([...(o32 ? [] : [0x66]), ...opBytes, ...b.encodeMemory(ext, ea, false)], r, NO_FLAGS, []);
  model.step(r, { reg: ext, rm: 0, ea, o32 });
}

/** A control word: any rounding, precision 24/53/64 bits, usually all exceptions masked. */
export function chooseControl(rnd: Random, allowUnmasked = true): number {
  const rc = rnd.below(4);
  const pc = rnd.pick([0, 2, 2, 3]);
  let masks = 0x3f;
  if (allowUnmasked && rnd.chance(0.4)) {
    // DE seldom: while it is unmasked the model refuses everything that may meet a denormal.
    for (let bit = 0; bit < 6; bit++) if (rnd.chance(bit === 1 ? 0.1 : 0.35)) masks &= ~(1 << bit);
  }
  const reserved = (rnd.chance(0.5) ? 0x40 : 0) | (rnd.chance(0.3) ? 0x1000 : 0) | (rnd.chance(0.1) ? rnd.below(8) << 13 : 0) | (rnd.chance(0.1) ? 0x80 : 0);
  return (rc << 10) | (pc << 8) | masks | reserved;
}

/** A status word whose ES and B agree with its flags under `cw`. */
function chooseStatus(rnd: Random, cw: number): number {
  let flags = rnd.chance(0.5) ? 0 : rnd.u32() & 0x3f;
  if (flags & 1 && rnd.chance(0.5)) flags |= 0x40; // stack fault
  const cc = rnd.u32() & 0x4700;
  const top = rnd.below(8) << 11;
  const es = flags & ~cw & 0x3f ? 0x8080 : 0;
  return flags | cc | top | es;
}

function chooseTags(rnd: Random): number {
  let t = 0;
  for (let p = 0; p < 8; p++) t |= (rnd.chance(0.4) ? 3 : rnd.below(3)) << (2 * p);
  return t;
}

/** An address for an image of `size` bytes: usually inside the data pages, sometimes where it faults. */
function imageAddress(b: Builder, rnd: Random, size: number, write: boolean, align: number): number {
  // FXSAVE/FXRSTOR areas stay in the data pages (a misaligned one raises #GP): when the area is
  // on a page that faults, the AMD host reports its last byte in CR2, where the emulated
  // processor reports the first.
  if (align === 16) return DATA + 16 * rnd.below((DATA_SIZE - size) / 16 + 1) + (rnd.chance(0.03) ? 1 + rnd.below(15) : 0);
  let a = b.target(size, write);
  if (a >= DATA && a + size <= DATA + DATA_SIZE) a = DATA + rnd.below(DATA_SIZE - size + 1);
  if (align > 1 && rnd.chance(0.97)) a = Math.max(DATA, a - (a % align));
  return a >>> 0;
}

function inData(addr: number, size: number): boolean {
  return addr >= DATA && addr + size <= DATA + DATA_SIZE;
}

function scrub(b: Builder, model: FpuModel, kind: keyof typeof SCRUBBED, addr: number): void {
  for (const [off, n] of SCRUBBED[kind]) {
    store(b, model, addr + off, 0, n as 2 | 4);
    b.instructions[b.instructions.length - 1].completes = true;
  }
}

/** Save an image, then scrub its host-dependent fields. */
function save(b: Builder, rnd: Random, model: FpuModel, kind: 'env' | 'save' | 'fx'): void {
  const o32 = kind === 'fx' || rnd.chance(0.7);
  const size = imageSize(kind, o32);
  const addr = imageAddress(b, rnd, size, true, kind === 'fx' ? 16 : 1);
  const r = kind === 'env' ? ROWS.fnstenv : kind === 'save' ? ROWS.fnsave : ROWS.fxsave;
  emitMemory(b, model, r, addr, o32);
  if (inData(addr, size)) scrub(b, model, kind === 'fx' ? 'fx' : o32 ? 'env32' : 'env16', addr);
}

/** Load an image: one saved earlier in the sequence (round trip) or a prepared one. */
function load(b: Builder, rnd: Random, model: FpuModel, kind: 'env' | 'save' | 'fx'): void {
  const saved = model.latestImage(kind);
  const roundTrip = saved !== undefined && rnd.chance(0.6);
  const o32 = kind === 'fx' ? true : roundTrip ? saved!.o32 : rnd.chance(0.7);
  const size = imageSize(kind, o32);
  const addr = roundTrip ? saved!.addr : imageAddress(b, rnd, size, false, kind === 'fx' ? 16 : 1);
  // FXRSTOR checks MXCSR against the processor's MXCSR_MASK, which differs between the host and
  // the emulated Pentium II: its image is always one whose MXCSR the generator wrote.
  if (inData(addr, size) && (!roundTrip || rnd.chance(0.3))) {
    // Prepare the control, status and tag words (and, for FRSTOR, some registers).
    const cw = chooseControl(rnd);
    const sw = chooseStatus(rnd, storedControl(cw));
    if (kind === 'fx') {
      store(b, model, addr, (cw | (sw << 16)) >>> 0, 4);
      store(b, model, addr + 4, (rnd.below(256) | (rnd.below(0x800) << 16)) >>> 0, 4);
      // MXCSR: usually valid; a reserved bit makes FXRSTOR raise #GP(0).
      const mxcsr = rnd.chance(0.05) ? (0x1f80 | (1 << (18 + rnd.below(14)))) >>> 0 : 0x1f80 | (rnd.u32() & 0x7f3f);
      store(b, model, addr + 24, mxcsr, 4);
    } else if (o32) {
      store(b, model, addr, (0xffff0000 | cw) >>> 0, 4);
      store(b, model, addr + 4, (0xffff0000 | sw) >>> 0, 4);
      store(b, model, addr + 8, (0xffff0000 | chooseTags(rnd)) >>> 0, 4);
    } else {
      store(b, model, addr, (cw | (sw << 16)) >>> 0, 4);
      store(b, model, addr + 4, chooseTags(rnd), 2);
    }
    if (kind !== 'env') {
      for (let k = rnd.below(3); k > 0; k--) {
        const base = kind === 'fx' ? 32 : o32 ? 28 : 14;
        const i = rnd.below(8);
        storeBytes(b, model, addr + base + i * (kind === 'fx' ? 16 : 10), chosenBytes('m80', rnd)!);
      }
    }
  }
  if (kind === 'fx' && roundTrip && inData(addr, size)) store(b, model, addr + 24, 0x1f80, 4);
  const r = kind === 'env' ? ROWS.fldenv : kind === 'save' ? ROWS.frstor : ROWS.fxrstor;
  emitMemory(b, model, r, addr, o32);
}

/** One control or state instruction (with its helper stores). */
export function generateFpuState(b: Builder, rnd: Random, model: FpuModel): void {
  const pick = rnd.below(100);
  if (pick < 45) {
    const addr = b.target(2, false);
    if (inData(addr, 2) && rnd.chance(0.9)) store(b, model, addr, chooseControl(rnd), 2);
    emitMemory(b, model, ROWS.fldcw, addr, rnd.chance(0.8));
  } else if (pick < 53) save(b, rnd, model, 'env');
  else if (pick < 63) load(b, rnd, model, 'env');
  else if (pick < 71) save(b, rnd, model, 'save');
  else if (pick < 80) load(b, rnd, model, 'save');
  else if (pick < 87) save(b, rnd, model, 'fx');
  else if (pick < 95) load(b, rnd, model, 'fx');
  else {
    b.emit([0xdb, 0xe3], ROWS.fninit, NO_FLAGS, []);
    model.step(ROWS.fninit, { reg: 4, rm: 3 });
  }
}
