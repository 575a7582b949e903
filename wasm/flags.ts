// Lazy arithmetic flags: flag-setting instructions record their operands, result and size, and
// CF/PF/AF/ZF/SF/OF are computed from that record only when something reads them.
import {
  STATE, S_EFLAGS, S_LAZY_OP, S_LAZY_DST, S_LAZY_SRC, S_LAZY_RES, S_LAZY_MASK,
  CF, PF, AF, ZF, SF, OF, ARITH_FLAGS, LAZY_ADD, LAZY_SUB, LAZY_LOGIC,
} from './layout';

// S_LAZY_OP holds the operation in its low byte and the operand size above it, so a record is
// one store fewer; a logic operation's flags depend on the result alone, so it stores no operands.
@inline export function setLazy(op: u32, dst: u32, src: u32, res: u32, size: u32, mask: u32): void {
  store<u32>(STATE + S_LAZY_OP, op | (size << 8));
  if (op != LAZY_LOGIC) {
    store<u32>(STATE + S_LAZY_DST, dst);
    store<u32>(STATE + S_LAZY_SRC, src);
  }
  store<u32>(STATE + S_LAZY_RES, res);
  store<u32>(STATE + S_LAZY_MASK, mask);
}
@inline function lazyOp(): u32 {
  return load<u32>(STATE + S_LAZY_OP) & 0xff;
}
@inline function lazySize(): u32 {
  return load<u32>(STATE + S_LAZY_OP) >>> 8;
}

@inline function lazyMask(): u32 {
  return load<u32>(STATE + S_LAZY_MASK);
}
@inline function topBit(v: u32): u32 {
  return (v >>> (lazySize() - 1)) & 1;
}
@inline function sizeMask(): u32 {
  const size = lazySize();
  return size == 32 ? 0xffff_ffff : (<u32>1 << size) - 1;
}

function lazyCF(): u32 {
  const op = lazyOp();
  if (op == LAZY_LOGIC) return 0;
  const d = load<u32>(STATE + S_LAZY_DST);
  const s = load<u32>(STATE + S_LAZY_SRC);
  const r = load<u32>(STATE + S_LAZY_RES);
  if (op == LAZY_ADD) return topBit((d & s) | ((d | s) & ~r));
  return topBit((~d & s) | ((~d | s) & r));
}
function lazyOF(): u32 {
  const op = lazyOp();
  if (op == LAZY_LOGIC) return 0;
  const d = load<u32>(STATE + S_LAZY_DST);
  const s = load<u32>(STATE + S_LAZY_SRC);
  const r = load<u32>(STATE + S_LAZY_RES);
  if (op == LAZY_ADD) return topBit((d ^ r) & (s ^ r));
  return topBit((d ^ s) & (d ^ r));
}
function lazyAF(): u32 {
  const op = lazyOp();
  if (op == LAZY_LOGIC) return 0;
  const d = load<u32>(STATE + S_LAZY_DST);
  const s = load<u32>(STATE + S_LAZY_SRC);
  const r = load<u32>(STATE + S_LAZY_RES);
  return ((d ^ s ^ r) >>> 4) & 1;
}
@inline function lazyZF(): u32 {
  return (load<u32>(STATE + S_LAZY_RES) & sizeMask()) == 0 ? 1 : 0;
}
@inline function lazySF(): u32 {
  return topBit(load<u32>(STATE + S_LAZY_RES));
}
@inline function lazyPF(): u32 {
  // PF is set when the low byte has an even number of one bits.
  return (~popcnt<u32>(load<u32>(STATE + S_LAZY_RES) & 0xff)) & 1;
}

/** CF is still to be computed from the lazy record. */
@inline export function lazyCarry(): bool {
  return (lazyMask() & CF) != 0;
}
@inline export function getCF(): u32 {
  return lazyMask() & CF ? lazyCF() : load<u32>(STATE + S_EFLAGS) & CF;
}
@inline export function getZF(): bool {
  return lazyMask() & ZF ? lazyZF() != 0 : (load<u32>(STATE + S_EFLAGS) & ZF) != 0;
}
@inline export function getSF(): bool {
  return lazyMask() & SF ? lazySF() != 0 : (load<u32>(STATE + S_EFLAGS) & SF) != 0;
}
@inline export function getOF(): bool {
  return lazyMask() & OF ? lazyOF() != 0 : (load<u32>(STATE + S_EFLAGS) & OF) != 0;
}
@inline export function getPF(): bool {
  return lazyMask() & PF ? lazyPF() != 0 : (load<u32>(STATE + S_EFLAGS) & PF) != 0;
}
@inline export function getAF(): bool {
  return lazyMask() & AF ? lazyAF() != 0 : (load<u32>(STATE + S_EFLAGS) & AF) != 0;
}

/** The complete EFLAGS value (bit 1 always set). */
export function getEflags(): u32 {
  let f = load<u32>(STATE + S_EFLAGS);
  const m = lazyMask();
  if (m) {
    f &= ~m;
    if (m & CF) f |= lazyCF();
    if (m & PF) f |= lazyPF() << 2;
    if (m & AF) f |= lazyAF() << 4;
    if (m & ZF) f |= lazyZF() << 6;
    if (m & SF) f |= lazySF() << 7;
    if (m & OF) f |= lazyOF() << 11;
  }
  return f | 2;
}

/** Write the lazily computed flags into S_EFLAGS so the state block is exact. */
export function materializeFlags(): void {
  store<u32>(STATE + S_EFLAGS, getEflags());
  store<u32>(STATE + S_LAZY_MASK, 0);
}

/** Replace the arithmetic flags selected by `mask` with the bits of `value`. */
export function setArithFlags(mask: u32, value: u32): void {
  const f = getEflags();
  store<u32>(STATE + S_EFLAGS, (f & ~mask) | (value & mask));
  store<u32>(STATE + S_LAZY_MASK, 0);
}

/** Set EFLAGS wholesale (the caller has applied privilege rules to `value`). */
export function setEflagsRaw(value: u32): void {
  store<u32>(STATE + S_EFLAGS, (value & 0x003f_7fd5) | 2);
  store<u32>(STATE + S_LAZY_MASK, 0);
}

/**
 * Store the flags selected by `mask` (from `value`); the other lazy flags stay lazy, so an
 * instruction that defines only CF and OF (rotates, BT) does not compute the rest.
 */
@inline export function setStoredFlags(mask: u32, value: u32): void {
  store<u32>(STATE + S_LAZY_MASK, lazyMask() & ~mask);
  store<u32>(STATE + S_EFLAGS, (load<u32>(STATE + S_EFLAGS) & ~mask) | (value & mask));
}

@inline export function setCF(on: bool): void {
  const m = lazyMask();
  if (m & CF) {
    // Keep the other lazy flags lazy; CF becomes a stored flag.
    store<u32>(STATE + S_LAZY_MASK, m & ~CF);
  }
  const f = load<u32>(STATE + S_EFLAGS);
  store<u32>(STATE + S_EFLAGS, on ? f | CF : f & ~CF);
}

/** Condition codes 0-15 as encoded in Jcc/SETcc/CMOVcc (inlined: callers pass a constant). */
@inline export function condition(cc: u32): bool {
  let r: bool;
  switch (cc >> 1) {
    case 0: r = getOF(); break;
    case 1: r = getCF() != 0; break;
    case 2: r = getZF(); break;
    case 3: r = getCF() != 0 || getZF(); break;
    case 4: r = getSF(); break;
    case 5: r = getPF(); break;
    case 6: r = getSF() != getOF(); break;
    default: r = getZF() || getSF() != getOF(); break;
  }
  return cc & 1 ? !r : r;
}

export const ALL_LAZY: u32 = ARITH_FLAGS;
export const LAZY_NO_CF: u32 = ARITH_FLAGS & ~CF;
