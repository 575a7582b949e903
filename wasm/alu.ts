// Integer arithmetic with the exact architectural flags. Every helper takes the operand size in
// bits (8, 16 or 32) as its last argument; callers pass a constant, so inlining specialises it.
import { STATE, S_EFLAGS, CF, OF, AF, ZF, SF, PF, LAZY_ADD, LAZY_SUB, LAZY_LOGIC, EXC_DE } from './layout';
import { setLazy, getCF, getAF, getEflags, setArithFlags, setStoredFlags, lazyCarry, ALL_LAZY, LAZY_NO_CF } from './flags';
import { raise, NO_ERROR_CODE } from './fault';
import { reg8, reg16, reg32, setReg8, setReg16, setReg32, EAX, EDX } from './regs';

@inline export function maskOf(size: u32): u32 {
  return size == 32 ? 0xffff_ffff : size == 16 ? 0xffff : 0xff;
}
@inline function top(v: u32, size: u32): u32 {
  return (v >>> (size - 1)) & 1;
}
/** Sign-extend the low `size` bits of v to 32 bits. */
@inline export function signExtend(v: u32, size: u32): i32 {
  return size == 32 ? <i32>v : size == 16 ? <i32>(<i16>v) : <i32>(<i8>v);
}

@inline export function add(d: u32, s: u32, size: u32): u32 {
  const r = (d + s) & maskOf(size);
  setLazy(LAZY_ADD, d, s, r, size, ALL_LAZY);
  return r;
}
@inline export function adc(d: u32, s: u32, size: u32): u32 {
  const r = (d + s + getCF()) & maskOf(size);
  setLazy(LAZY_ADD, d, s, r, size, ALL_LAZY);
  return r;
}
@inline export function sub(d: u32, s: u32, size: u32): u32 {
  const r = (d - s) & maskOf(size);
  setLazy(LAZY_SUB, d, s, r, size, ALL_LAZY);
  return r;
}
@inline export function sbb(d: u32, s: u32, size: u32): u32 {
  const r = (d - s - getCF()) & maskOf(size);
  setLazy(LAZY_SUB, d, s, r, size, ALL_LAZY);
  return r;
}
@inline export function cmp(d: u32, s: u32, size: u32): void {
  sub(d, s, size);
}
@inline export function and(d: u32, s: u32, size: u32): u32 {
  const r = d & s;
  setLazy(LAZY_LOGIC, 0, 0, r, size, ALL_LAZY);
  return r;
}
@inline export function or(d: u32, s: u32, size: u32): u32 {
  const r = d | s;
  setLazy(LAZY_LOGIC, 0, 0, r, size, ALL_LAZY);
  return r;
}
@inline export function xor(d: u32, s: u32, size: u32): u32 {
  const r = d ^ s;
  setLazy(LAZY_LOGIC, 0, 0, r, size, ALL_LAZY);
  return r;
}
@inline export function test(d: u32, s: u32, size: u32): void {
  and(d, s, size);
}

/** Keep the current CF as a stored flag before a lazy record that does not define it. */
@inline function keepCF(): void {
  if (lazyCarry()) {
    const f = load<u32>(STATE + S_EFLAGS);
    store<u32>(STATE + S_EFLAGS, (f & ~CF) | getCF());
  }
}
@inline export function inc(d: u32, size: u32): u32 {
  keepCF();
  const r = (d + 1) & maskOf(size);
  setLazy(LAZY_ADD, d, 1, r, size, LAZY_NO_CF);
  return r;
}
@inline export function dec(d: u32, size: u32): u32 {
  keepCF();
  const r = (d - 1) & maskOf(size);
  setLazy(LAZY_SUB, d, 1, r, size, LAZY_NO_CF);
  return r;
}
@inline export function neg(d: u32, size: u32): u32 {
  const r = (0 - d) & maskOf(size);
  setLazy(LAZY_SUB, 0, d, r, size, ALL_LAZY);
  return r;
}

/** Set CF and OF eagerly, and SF/ZF/PF (and AF = 0) from `result`. */
function shiftFlags(result: u32, size: u32, cf: u32, ovf: u32): void {
  setLazy(LAZY_LOGIC, 0, 0, result, size, ZF | SF | PF | AF);
  const f = load<u32>(STATE + S_EFLAGS) & ~(CF | OF);
  store<u32>(STATE + S_EFLAGS, f | cf | (ovf << 11));
}
/** Set only CF and OF (rotates leave SF/ZF/AF/PF alone). */
@inline function rotateFlags(cf: u32, ovf: u32): void {
  setStoredFlags(CF | OF, cf | (ovf << 11));
}

export function shl(d: u32, count: u32, size: u32): u32 {
  const c = count & 31;
  if (c == 0) return d;
  const m = maskOf(size);
  const r = c >= 32 ? 0 : (d << c) & m;
  const cf = c > size ? 0 : (d >>> (size - c)) & 1;
  shiftFlags(r, size, cf, top(r, size) ^ cf);
  return r;
}
export function shr(d: u32, count: u32, size: u32): u32 {
  const c = count & 31;
  if (c == 0) return d;
  const r = d >>> c;
  const cf = c > size ? 0 : (d >>> (c - 1)) & 1;
  shiftFlags(r, size, cf, top(d, size));
  return r;
}
export function sar(d: u32, count: u32, size: u32): u32 {
  const c = count & 31;
  if (c == 0) return d;
  const sd = signExtend(d, size);
  const eff = c >= size ? size - 1 : c;
  const r = <u32>(sd >> eff) & maskOf(size);
  const cf = c >= size ? top(d, size) : <u32>(sd >> (c - 1)) & 1;
  shiftFlags(r, size, cf, 0);
  return r;
}
export function rol(d: u32, count: u32, size: u32): u32 {
  const c = count & 31;
  if (c == 0) return d;
  const n = c % size;
  const m = maskOf(size);
  const r = n == 0 ? d : ((d << n) | (d >>> (size - n))) & m;
  const cf = r & 1;
  rotateFlags(cf, top(r, size) ^ cf);
  return r;
}
export function ror(d: u32, count: u32, size: u32): u32 {
  const c = count & 31;
  if (c == 0) return d;
  const n = c % size;
  const m = maskOf(size);
  const r = n == 0 ? d : ((d >>> n) | (d << (size - n))) & m;
  rotateFlags(top(r, size), top(r, size) ^ ((r >>> (size - 2)) & 1));
  return r;
}
export function rcl(d: u32, count: u32, size: u32): u32 {
  let c = count & 31;
  if (size < 32) c = c % (size + 1);
  if (c == 0) return d;
  // Rotate the (size+1)-bit value CF:d left by c.
  const wide: u64 = (<u64>getCF() << size) | <u64>d;
  const bits = size + 1;
  const rot: u64 = ((wide << c) | (wide >> (bits - c))) & ((<u64>1 << bits) - 1);
  const r = <u32>rot & maskOf(size);
  const cf = <u32>(rot >> size) & 1;
  rotateFlags(cf, top(r, size) ^ cf);
  return r;
}
export function rcr(d: u32, count: u32, size: u32): u32 {
  let c = count & 31;
  if (size < 32) c = c % (size + 1);
  if (c == 0) return d;
  const wide: u64 = (<u64>getCF() << size) | <u64>d;
  const bits = size + 1;
  const rot: u64 = ((wide >> c) | (wide << (bits - c))) & ((<u64>1 << bits) - 1);
  const r = <u32>rot & maskOf(size);
  const cf = <u32>(rot >> size) & 1;
  rotateFlags(cf, top(r, size) ^ ((r >>> (size - 2)) & 1));
  return r;
}

/** SHLD: shift d left by count, filling from the high bits of s. */
export function shld(d: u32, s: u32, count: u32, size: u32): u32 {
  const c = count & 31;
  if (c == 0) return d;
  let r: u32, cf: u32;
  if (size == 16) {
    // With a count above 16 the 16-bit form shifts through s:d:s (result undefined by Intel; this is what the hardware does).
    // d:s:d as 48 bits; the result is the 16 bits that end c bits below the top of d.
    const wide: u64 = (<u64>d << 32) | (<u64>s << 16) | <u64>d;
    r = <u32>(wide >> (32 - c)) & 0xffff;
    cf = <u32>(wide >> (48 - c)) & 1;
  } else {
    r = (d << c) | (s >>> (32 - c));
    cf = (d >>> (32 - c)) & 1;
  }
  shiftFlags(r, size, cf, top(r, size) ^ top(d, size));
  return r;
}
export function shrd(d: u32, s: u32, count: u32, size: u32): u32 {
  const c = count & 31;
  if (c == 0) return d;
  let r: u32, cf: u32;
  if (size == 16) {
    const wide: u64 = (<u64>d << 32) | (<u64>s << 16) | <u64>d;
    r = <u32>(wide >> c) & 0xffff;
    cf = <u32>(wide >> (c - 1)) & 1;
  } else {
    r = (d >>> c) | (s << (32 - c));
    cf = (d >>> (c - 1)) & 1;
  }
  shiftFlags(r, size, cf, top(r, size) ^ top(d, size));
  return r;
}

// ---- Multiply and divide ----

function mulFlags(overflow: bool, low: u32, size: u32): void {
  // SF/ZF/AF/PF are undefined; they follow the low half of the result here.
  setLazy(LAZY_LOGIC, 0, 0, low, size, ZF | SF | PF | AF);
  const f = load<u32>(STATE + S_EFLAGS) & ~(CF | OF);
  store<u32>(STATE + S_EFLAGS, overflow ? f | CF | OF : f);
}

/** MUL r/m: unsigned multiply into AX, DX:AX or EDX:EAX. */
export function mul(s: u32, size: u32): void {
  if (size == 8) {
    const r = reg8(0) * s;
    setReg16(EAX, r);
    mulFlags((r >>> 8) != 0, r & 0xff, 8);
  } else if (size == 16) {
    const r = reg16(EAX) * s;
    setReg16(EAX, r);
    setReg16(EDX, r >>> 16);
    mulFlags((r >>> 16) != 0, r & 0xffff, 16);
  } else {
    const r: u64 = <u64>reg32(EAX) * <u64>s;
    setReg32(EAX, <u32>r);
    setReg32(EDX, <u32>(r >> 32));
    mulFlags((r >> 32) != 0, <u32>r, 32);
  }
}

/** IMUL r/m (one operand): signed multiply into AX, DX:AX or EDX:EAX. */
export function imul1(s: u32, size: u32): void {
  if (size == 8) {
    const r = <i32>(<i8>reg8(0)) * <i32>(<i8>s);
    setReg16(EAX, <u32>r);
    mulFlags(r != <i32>(<i8>r), <u32>r & 0xff, 8);
  } else if (size == 16) {
    const r = <i32>(<i16>reg16(EAX)) * <i32>(<i16>s);
    setReg16(EAX, <u32>r);
    setReg16(EDX, <u32>r >>> 16);
    mulFlags(r != <i32>(<i16>r), <u32>r & 0xffff, 16);
  } else {
    const r: i64 = <i64>(<i32>reg32(EAX)) * <i64>(<i32>s);
    setReg32(EAX, <u32>r);
    setReg32(EDX, <u32>(r >> 32));
    mulFlags(r != <i64>(<i32>r), <u32>r, 32);
  }
}

/** IMUL r, r/m[, imm]: truncated signed product. */
export function imul2(a: u32, b: u32, size: u32): u32 {
  if (size == 16) {
    const r = <i32>(<i16>a) * <i32>(<i16>b);
    mulFlags(r != <i32>(<i16>r), <u32>r & 0xffff, 16);
    return <u32>r & 0xffff;
  }
  const r: i64 = <i64>(<i32>a) * <i64>(<i32>b);
  mulFlags(r != <i64>(<i32>r), <u32>r, 32);
  return <u32>r;
}

function divideError(): void {
  raise(EXC_DE, NO_ERROR_CODE);
}

/** DIV r/m: all flags undefined (left as they were). */
export function div(s: u32, size: u32): void {
  if (s == 0) divideError();
  if (size == 8) {
    const n = reg16(EAX);
    const q = n / s;
    if (q > 0xff) divideError();
    setReg8(0, q);
    setReg8(4, n % s);
  } else if (size == 16) {
    const n = (reg16(EDX) << 16) | reg16(EAX);
    const q = n / s;
    if (q > 0xffff) divideError();
    setReg16(EAX, q);
    setReg16(EDX, n % s);
  } else {
    const n: u64 = (<u64>reg32(EDX) << 32) | <u64>reg32(EAX);
    const q = n / <u64>s;
    if (q > 0xffff_ffff) divideError();
    setReg32(EAX, <u32>q);
    setReg32(EDX, <u32>(n % <u64>s));
  }
}

export function idiv(s: u32, size: u32): void {
  if (s == 0) divideError();
  if (size == 8) {
    const n = <i32>(<i16>reg16(EAX));
    const d = <i32>(<i8>s);
    const q = n / d;
    if (q != <i32>(<i8>q)) divideError();
    setReg8(0, <u32>q);
    setReg8(4, <u32>(n % d));
  } else if (size == 16) {
    const n = <i32>((reg16(EDX) << 16) | reg16(EAX));
    const d = <i32>(<i16>s);
    // -2^31 / -1 overflows i32 division itself: it is a quotient overflow.
    if (n == i32.MIN_VALUE && d == -1) divideError();
    const q = n / d;
    if (q != <i32>(<i16>q)) divideError();
    setReg16(EAX, <u32>q);
    setReg16(EDX, <u32>(n % d));
  } else {
    const n = <i64>((<u64>reg32(EDX) << 32) | <u64>reg32(EAX));
    const d = <i64>(<i32>s);
    if (n == i64.MIN_VALUE && d == -1) divideError();
    const q = n / d;
    if (q != <i64>(<i32>q)) divideError();
    setReg32(EAX, <u32>q);
    setReg32(EDX, <u32>(n % d));
  }
}

// ---- Bit operations ----

/** BT family: returns the new value for BTS/BTR/BTC (op 1/2/3), sets CF to the old bit. */
export function bitOp(d: u32, bit: u32, op: u32, size: u32): u32 {
  const b = bit & (size - 1);
  const old = (d >>> b) & 1;
  setCarryOnly(old);
  if (op == 1) return d | (<u32>1 << b);
  if (op == 2) return d & ~(<u32>1 << b);
  if (op == 3) return d ^ (<u32>1 << b);
  return d;
}
function setCarryOnly(cf: u32): void {
  // OF, SF, AF, PF are undefined after BT*; ZF is unchanged.
  setStoredFlags(CF, cf);
}

export function bsf(d: u32, s: u32, size: u32): u32 {
  if (s == 0) {
    setArithFlags(ZF, ZF);
    return d;
  }
  setArithFlags(ZF, 0);
  return ctz<u32>(s);
}
export function bsr(d: u32, s: u32, size: u32): u32 {
  if (s == 0) {
    setArithFlags(ZF, ZF);
    return d;
  }
  setArithFlags(ZF, 0);
  return 31 - clz<u32>(s);
}

// ---- BCD ----

function setSZP(v: u32): u32 {
  let f: u32 = 0;
  if ((v & 0xff) == 0) f |= ZF;
  if (v & 0x80) f |= SF;
  if (!(popcnt<u32>(v & 0xff) & 1)) f |= PF;
  return f;
}

export function daa(): void {
  const al = reg8(0);
  const cf = getCF();
  const af = getAF();
  let r = al;
  let newCf: u32 = 0;
  let newAf: u32 = 0;
  if ((al & 0xf) > 9 || af) {
    r = (r + 6) & 0xff;
    newAf = AF;
  }
  if (al > 0x99 || cf) {
    r = (r + 0x60) & 0xff;
    newCf = CF;
  }
  setReg8(0, r);
  setArithFlags(CF | AF | ZF | SF | PF | OF, newCf | newAf | setSZP(r));
}
export function das(): void {
  const al = reg8(0);
  const cf = getCF();
  const af = getAF();
  let r = al;
  let newCf: u32 = 0;
  let newAf: u32 = 0;
  if ((al & 0xf) > 9 || af) {
    r = (r - 6) & 0xff;
    newAf = AF;
    // The borrow out of AL - 6 sets CF even when the high digit needs no adjustment.
    if (al < 6) newCf = CF;
  }
  if (al > 0x99 || cf) {
    r = (r - 0x60) & 0xff;
    newCf = CF;
  }
  setReg8(0, r);
  setArithFlags(CF | AF | ZF | SF | PF | OF, newCf | newAf | setSZP(r));
}
export function aaa(): void {
  const ax = reg16(EAX);
  if ((ax & 0xf) > 9 || getAF()) {
    setReg16(EAX, ((ax + 0x106) & 0xff00) | ((ax + 6) & 0x0f));
    setArithFlags(CF | AF | ZF | SF | PF | OF, CF | AF);
  } else {
    setReg16(EAX, ax & 0xff0f);
    setArithFlags(CF | AF | ZF | SF | PF | OF, 0);
  }
}
export function aas(): void {
  const ax = reg16(EAX);
  if ((ax & 0xf) > 9 || getAF()) {
    setReg16(EAX, ((ax - 0x106) & 0xff00) | ((ax - 6) & 0x0f));
    setArithFlags(CF | AF | ZF | SF | PF | OF, CF | AF);
  } else {
    setReg16(EAX, ax & 0xff0f);
    setArithFlags(CF | AF | ZF | SF | PF | OF, 0);
  }
}
export function aam(base: u32): void {
  if (base == 0) divideError();
  const al = reg8(0);
  const r = al % base;
  setReg8(4, al / base);
  setReg8(0, r);
  setArithFlags(CF | AF | ZF | SF | PF | OF, setSZP(r));
}
export function aad(base: u32): void {
  const r = (reg8(0) + reg8(4) * base) & 0xff;
  setReg16(EAX, r);
  setArithFlags(CF | AF | ZF | SF | PF | OF, setSZP(r));
}

/** SALC (undocumented 0xD6): AL = CF ? 0xFF : 0. */
export function salc(): void {
  setReg8(0, getCF() ? 0xff : 0);
}
