// Instruction fetch, prefix state and ModRM/SIB effective-address decoding.
import { STATE, S_SEGS, SEG_BASE, SEG_LIMIT, S_MODE, CS, SS, DS, EXC_GP } from './layout';
import { fetchDelta, fetchStart, fetchLen, fetchLen4, fetchSlow, readLin8, readLin16, readLin32, writeLin8, writeLin16, writeLin32, probeWrite } from './memory';
import { raise, gp } from './fault';
import { reg32, reg16, reg8, setReg8, setReg16, setReg32, getEip, setEip } from './regs';
import { linearForRead, linearForWrite } from './segments';

// ---- Prefix state of the instruction being decoded ----
export let opsize32: bool = false;
export let addrsize32: bool = false;
/** Segment override prefix, or -1. */
export let segOverride: i32 = -1;
/** 0 none, 1 REP/REPE (F3), 2 REPNE (F2). */
export let repPrefix: i32 = 0;
export let lockPrefix: bool = false;
/** Segment of the memory operand decoded last (default or override). */
export let effSeg: i32 = DS;
/** The memory operand decoded last uses ESP as its SIB base (POP r/m adjusts for that). */
export let eaUsesEspBase: bool = false;

/**
 * The prefix state differs from the defaults: a prefix was decoded, or S_MODE may have changed
 * (a CS load, or the host rewrote the state block). Lets unprefixed instructions skip the reset.
 */
export let prefixesDirty: bool = true;
export function markPrefixesDirty(): void {
  prefixesDirty = true;
}

export function resetPrefixes(): void {
  prefixesDirty = false;
  const mode = load<u32>(STATE + S_MODE);
  opsize32 = (mode & 1) != 0;
  addrsize32 = opsize32;
  segOverride = -1;
  repPrefix = 0;
  lockPrefix = false;
}
export function prefixOpsize(): void {
  prefixesDirty = true;
  opsize32 = (load<u32>(STATE + S_MODE) & 1) == 0;
}
export function prefixAddrsize(): void {
  prefixesDirty = true;
  addrsize32 = (load<u32>(STATE + S_MODE) & 1) == 0;
}
export function prefixSegment(seg: i32): void {
  prefixesDirty = true;
  segOverride = seg;
}
export function prefixRep(kind: i32): void {
  prefixesDirty = true;
  repPrefix = kind;
}
export function prefixLock(): void {
  prefixesDirty = true;
  lockPrefix = true;
}

// ---- Fetch ----

/** Slow fetch: CS limit check, then the page translation; caches the page for the fast path. */
function fetchRefill(): u32 {
  const eip = getEip();
  const csLimit = load<u32>(STATE + S_SEGS + CS * 0x20 + SEG_LIMIT);
  if (eip > csLimit) gp(0);
  const b = fetchSlow(load<u32>(STATE + S_SEGS + CS * 0x20 + SEG_BASE) + eip, eip, csLimit);
  setEip(eip + 1);
  return b;
}

// The *At fetches take the EIP their caller already holds (it must equal S_EIP): decoding then
// never reloads EIP from the state block, where each reload waits for the store before it.
@inline export function fetch8At(eip: u32): u32 {
  if (eip - fetchStart < fetchLen) {
    setEip(eip + 1);
    return <u32>load<u8>(fetchDelta + eip);
  }
  return fetchRefill();
}
export function fetch16At(eip: u32): u32 {
  const lo = fetch8At(eip);
  return lo | (fetch8At(eip + 1) << 8);
}
@inline export function fetch32At(eip: u32): u32 {
  if (eip - fetchStart < fetchLen4) {
    setEip(eip + 4);
    return load<u32>(fetchDelta + eip);
  }
  return fetch32Slow(eip);
}
function fetch32Slow(eip: u32): u32 {
  const b0 = fetch8At(eip);
  const b1 = fetch8At(eip + 1);
  const b2 = fetch8At(eip + 2);
  return b0 | (b1 << 8) | (b2 << 16) | (fetch8At(eip + 3) << 24);
}
@inline export function fetch8(): u32 {
  return fetch8At(getEip());
}
export function fetch16(): u32 {
  return fetch16At(getEip());
}
export function fetch32(): u32 {
  return fetch32At(getEip());
}

// ---- Effective addresses ----

/** Decode the memory operand of `modrm` (mod != 3) fetched just before `eip`: consumes SIB and displacement, sets effSeg. */
export function decodeEa(modrm: u32, eip: u32): u32 {
  const mod = modrm >> 6;
  const rm = modrm & 7;
  let seg: i32 = DS;
  let ea: u32;
  let ip = eip;
  eaUsesEspBase = false;
  if (!addrsize32) {
    switch (rm) {
      case 0: ea = reg16(3) + reg16(6); break;
      case 1: ea = reg16(3) + reg16(7); break;
      case 2: ea = reg16(5) + reg16(6); seg = SS; break;
      case 3: ea = reg16(5) + reg16(7); seg = SS; break;
      case 4: ea = reg16(6); break;
      case 5: ea = reg16(7); break;
      case 6:
        if (mod == 0) { ea = fetch16At(ip); ip += 2; }
        else { ea = reg16(5); seg = SS; }
        break;
      default: ea = reg16(3); break;
    }
    if (mod == 1) ea += <u32>(<i32>(<i8>fetch8At(ip)));
    else if (mod == 2) ea += fetch16At(ip);
    ea &= 0xffff;
  } else {
    if (rm == 4) {
      const sib = fetch8At(ip);
      ip++;
      const base = sib & 7;
      const index = (sib >> 3) & 7;
      if (base == 5 && mod == 0) {
        ea = fetch32At(ip);
        ip += 4;
      } else {
        ea = reg32(base);
        if (base == 4 || base == 5) seg = SS;
        if (base == 4) eaUsesEspBase = true;
      }
      if (index != 4) ea += reg32(index) << (sib >> 6);
    } else if (rm == 5 && mod == 0) {
      ea = fetch32At(ip);
      ip += 4;
    } else {
      ea = reg32(rm);
      if (rm == 5) seg = SS;
    }
    if (mod == 1) ea += <u32>(<i32>(<i8>fetch8At(ip)));
    else if (mod == 2) ea += fetch32At(ip);
  }
  effSeg = segOverride >= 0 ? segOverride : seg;
  return ea;
}

/** Truncate an offset computed from registers to the address size (string ops, XLAT). */
@inline export function addrMask(v: u32): u32 {
  return addrsize32 ? v : v & 0xffff;
}

/** Segment for an instruction whose memory operand defaults to DS (string sources, XLAT, moffs). */
@inline export function dataSeg(): i32 {
  return segOverride >= 0 ? segOverride : DS;
}

// ---- Memory operands through a segment ----

@inline export function readMem8(seg: i32, off: u32): u32 {
  return readLin8(linearForRead(seg, off, 1));
}
@inline export function readMem16(seg: i32, off: u32): u32 {
  return readLin16(linearForRead(seg, off, 2));
}
@inline export function readMem32(seg: i32, off: u32): u32 {
  return readLin32(linearForRead(seg, off, 4));
}
@inline export function writeMem8(seg: i32, off: u32, v: u32): void {
  writeLin8(linearForWrite(seg, off, 1), v);
}
@inline export function writeMem16(seg: i32, off: u32, v: u32): void {
  writeLin16(linearForWrite(seg, off, 2), v);
}
@inline export function writeMem32(seg: i32, off: u32, v: u32): void {
  writeLin32(linearForWrite(seg, off, 4), v);
}

/**
 * Read-modify-write operands: check the segment for writing and probe the page(s) for writing
 * before the read, so the final write cannot fault after flags or registers changed.
 */
@inline export function rmwLinear(seg: i32, off: u32, size: u32): u32 {
  const lin = linearForWrite(seg, off, size);
  probeWrite(lin, size);
  return lin;
}

// Register operands by size (CMPXCHG's accumulator).
@inline export function getReg(r: i32, size: u32): u32 {
  return size == 8 ? reg8(r) : size == 16 ? reg16(r) : reg32(r);
}
@inline export function setReg(r: i32, size: u32, v: u32): void {
  if (size == 8) setReg8(r, v);
  else if (size == 16) setReg16(r, v);
  else setReg32(r, v);
}
