// Segment registers and their descriptor caches: loads in real, virtual-8086 and protected mode
// with every privilege and type check, and the per-segment offset windows that make the limit
// and access-rights check of an ordinary access two compares (see SEG_READ_LO in layout.ts).
import { markPrefixesDirty } from './decode';
import {
  STATE, S_SEGS, SEG_SIZE, SEG_SELECTOR, SEG_BASE, SEG_LIMIT, SEG_ATTR, SEG_READ_LO, SEG_READ_HI,
  SEG_WRITE_LO, SEG_WRITE_HI, S_FLAT, S_GDTR_BASE, S_GDTR_LIMIT, S_CPL, S_MODE, S_CR0, S_EFLAGS,
  CS, SS, LDTR, CR0_PE, VM, EXC_GP, EXC_SS, EXC_NP,
} from './layout';
import { raise, gp } from './fault';
import { readLin32, writeLin8, readLin8, beginSystemAccess, endSystemAccess, updateAccessMasks, invalidateFetch } from './memory';

// Attribute bits (descriptor high dword >> 8).
export const A_TYPE_ACCESSED: u32 = 0x1;
export const A_TYPE_RW: u32 = 0x2; // data: writable; code: readable
export const A_TYPE_EC: u32 = 0x4; // data: expand-down; code: conforming
export const A_TYPE_CODE: u32 = 0x8;
export const A_S: u32 = 0x10; // code/data (not system)
export const A_P: u32 = 0x80;
export const A_DB: u32 = 0x4000;
export const A_G: u32 = 0x8000;

@inline function segAddr(seg: i32): u32 {
  return STATE + S_SEGS + <u32>seg * SEG_SIZE;
}
@inline export function segLimit(seg: i32): u32 {
  return load<u32>(segAddr(seg) + SEG_LIMIT);
}
@inline export function segAttr(seg: i32): u32 {
  return load<u32>(segAddr(seg) + SEG_ATTR);
}

export function isProtectedMode(): bool {
  return (load<u32>(STATE + S_CR0) & CR0_PE) != 0 && (load<u32>(STATE + S_EFLAGS) & VM) == 0;
}
export function isV86(): bool {
  return (load<u32>(STATE + S_CR0) & CR0_PE) != 0 && (load<u32>(STATE + S_EFLAGS) & VM) != 0;
}
export function isRealMode(): bool {
  return (load<u32>(STATE + S_CR0) & CR0_PE) == 0;
}

/** Recompute the read/write offset windows of a segment from its cache and the CPU mode. */
export function computeWindows(seg: i32): void {
  const a = segAddr(seg);
  const limit = load<u32>(a + SEG_LIMIT);
  const attr = load<u32>(a + SEG_ATTR);
  let rlo: u32 = 0, rhi: u32 = limit, wlo: u32 = 0, whi: u32 = limit;
  if (!isRealMode()) {
    const usable = (attr & A_P) != 0 && (attr & A_S) != 0 && !(load<u32>(a + SEG_SELECTOR) < 4 && seg != CS && !isV86());
    if (!usable) {
      rlo = 1; rhi = 0; wlo = 1; whi = 0;
    } else if (attr & A_TYPE_CODE) {
      if (!(attr & A_TYPE_RW)) { rlo = 1; rhi = 0; }
      wlo = 1; whi = 0;
    } else {
      if (attr & A_TYPE_EC) {
        // Expand-down: valid offsets are above the limit, up to 64 KiB or 4 GiB.
        rlo = limit + 1;
        rhi = attr & A_DB ? 0xffff_ffff : 0xffff;
        wlo = rlo; whi = rhi;
        if (rlo == 0 && limit == 0xffff_ffff) { rlo = 1; rhi = 0; wlo = 1; whi = 0; }
      }
      if (!(attr & A_TYPE_RW)) { wlo = 1; whi = 0; }
    }
  }
  store<u32>(a + SEG_READ_LO, rlo);
  store<u32>(a + SEG_READ_HI, rhi);
  store<u32>(a + SEG_WRITE_LO, wlo);
  store<u32>(a + SEG_WRITE_HI, whi);
  updateFlat(seg);
}

/** Recompute the segment's bits in S_FLAT from its base and windows. */
function updateFlat(seg: i32): void {
  const a = segAddr(seg);
  const base0 = load<u32>(a + SEG_BASE) == 0;
  const readAll = base0 && load<u32>(a + SEG_READ_LO) == 0 && load<u32>(a + SEG_READ_HI) == 0xffff_ffff;
  const writeAll = readAll && load<u32>(a + SEG_WRITE_LO) == 0 && load<u32>(a + SEG_WRITE_HI) == 0xffff_ffff;
  let flat = load<u32>(STATE + S_FLAT) & ~((<u32>0x101) << seg);
  if (readAll) flat |= <u32>1 << seg;
  if (writeAll) flat |= <u32>0x100 << seg;
  store<u32>(STATE + S_FLAT, flat);
}

export function recomputeAllWindows(): void {
  for (let s = 0; s < 6; s++) computeWindows(s);
}

/** Set a segment's cache directly (reset, task switch, SYSENTER, snapshots). */
export function setSegmentCache(seg: i32, selector: u32, base: u32, limit: u32, attr: u32): void {
  const a = segAddr(seg);
  store<u32>(a + SEG_SELECTOR, selector & 0xffff);
  store<u32>(a + SEG_BASE, base);
  store<u32>(a + SEG_LIMIT, limit);
  store<u32>(a + SEG_ATTR, attr);
  if (seg < 6) computeWindows(seg);
  if (seg == CS) {
    const mode = load<u32>(STATE + S_MODE);
    store<u32>(STATE + S_MODE, (mode & ~1) | (attr & A_DB ? 1 : 0));
    markPrefixesDirty();
    invalidateFetch();
  } else if (seg == SS) {
    const mode = load<u32>(STATE + S_MODE);
    store<u32>(STATE + S_MODE, (mode & ~2) | (attr & A_DB ? 2 : 0));
    markPrefixesDirty();
  }
}

export function setCpl(level: u32): void {
  store<u32>(STATE + S_CPL, level);
  updateAccessMasks();
}

/** Real mode: only the selector and base change; the cached limit and attributes stay (unreal mode). */
export function loadSegmentReal(seg: i32, selector: u32): void {
  const a = segAddr(seg);
  store<u32>(a + SEG_SELECTOR, selector & 0xffff);
  store<u32>(a + SEG_BASE, (selector & 0xffff) << 4);
  if (seg < 6) updateFlat(seg);
  if (seg == CS) invalidateFetch();
}

/** Virtual-8086 mode: base = selector * 16, 64 KiB limit, a present DPL-3 read/write segment. */
export function loadSegmentV86(seg: i32, selector: u32): void {
  setSegmentCache(seg, selector, (selector & 0xffff) << 4, 0xffff, 0xf3);
}

// The two dwords of the descriptor last read by readDescriptor.
export let descLo: u32 = 0;
export let descHi: u32 = 0;

/**
 * Linear address of the descriptor for `selector` in the GDT or LDT, or raise
 * `vector`(selector | ext); `ext` is the EXT bit when an event's delivery does the lookup.
 */
export function descriptorAddress(selector: u32, vector: i32, ext: u32 = 0): u32 {
  const index = selector & 0xfff8;
  let base: u32, limit: u32;
  if (selector & 4) {
    const l = segAddr(LDTR);
    // A null or unusable LDT makes every LDT selector invalid.
    if ((load<u32>(l + SEG_SELECTOR) & 0xfffc) == 0) raise(vector, <i32>((selector & 0xfffc) | ext));
    base = load<u32>(l + SEG_BASE);
    limit = load<u32>(l + SEG_LIMIT);
  } else {
    base = load<u32>(STATE + S_GDTR_BASE);
    limit = load<u32>(STATE + S_GDTR_LIMIT);
  }
  if (index + 7 > limit) raise(vector, <i32>((selector & 0xfffc) | ext));
  return base + index;
}

/** Read the descriptor for `selector` into descLo/descHi; a selector outside its table raises vector(sel). */
export function readDescriptor(selector: u32, vector: i32, ext: u32 = 0): void {
  const addr = descriptorAddress(selector, vector, ext);
  beginSystemAccess();
  descLo = readLin32(addr);
  descHi = readLin32(addr + 4);
  endSystemAccess();
}

export function descBase(lo: u32, hi: u32): u32 {
  return (lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff00_0000);
}
export function descLimit(lo: u32, hi: u32): u32 {
  const raw = (lo & 0xffff) | (hi & 0xf_0000);
  return hi & (1 << 23) ? (raw << 12) | 0xfff : raw;
}
export function descAttr(hi: u32): u32 {
  return (hi >>> 8) & 0xf0ff;
}

/** Set the accessed bit of the descriptor for `selector` in memory, if it is clear. */
export function markAccessed(selector: u32): void {
  if (descHi & 0x100) return;
  const addr = descriptorAddress(selector, EXC_GP);
  beginSystemAccess();
  writeLin8(addr + 5, readLin8(addr + 5) | 1);
  endSystemAccess();
  descHi |= 0x100;
}

/** MOV/POP to a data segment register or SS, in whatever mode the CPU is in. */
export function loadSegment(seg: i32, selector: u32): void {
  selector &= 0xffff;
  if (isRealMode()) {
    loadSegmentReal(seg, selector);
    return;
  }
  if (isV86()) {
    loadSegmentV86(seg, selector);
    return;
  }
  loadSegmentProtected(seg, selector);
}

export function loadSegmentProtected(seg: i32, selector: u32): void {
  const cpl = load<u32>(STATE + S_CPL);
  const rpl = selector & 3;
  if ((selector & 0xfffc) == 0) {
    if (seg == SS) gp(0);
    // A null selector may be loaded into a data segment register; using it faults.
    setSegmentCache(seg, selector, 0, 0, 0);
    return;
  }
  readDescriptor(selector, EXC_GP);
  const attr = descAttr(descHi);
  const dpl = (attr >>> 5) & 3;
  const code = selector & 0xfffc;
  if (!(attr & A_S)) gp(<i32>code);
  if (seg == SS) {
    if (rpl != cpl || dpl != cpl || (attr & A_TYPE_CODE) || !(attr & A_TYPE_RW)) gp(<i32>code);
    if (!(attr & A_P)) raise(EXC_SS, <i32>code);
  } else {
    if ((attr & (A_TYPE_CODE | A_TYPE_RW)) == A_TYPE_CODE) gp(<i32>code); // execute-only code
    const conformingCode = (attr & (A_TYPE_CODE | A_TYPE_EC)) == (A_TYPE_CODE | A_TYPE_EC);
    if (!conformingCode && (dpl < cpl || dpl < rpl)) gp(<i32>code);
    if (!(attr & A_P)) raise(EXC_NP, <i32>code);
  }
  markAccessed(selector);
  setSegmentCache(seg, selector, descBase(descLo, descHi), descLimit(descLo, descHi), descAttr(descHi));
}

/**
 * After a privilege level drops (RET/IRET to an outer level), data segment registers whose
 * descriptors the new level may not use are nulled.
 */
export function nullInaccessibleSegments(newCpl: u32): void {
  for (let seg = 0; seg < 6; seg++) {
    if (seg == CS || seg == SS) continue;
    const attr = segAttr(seg);
    const dpl = (attr >>> 5) & 3;
    const conformingCode = (attr & (A_TYPE_CODE | A_TYPE_EC)) == (A_TYPE_CODE | A_TYPE_EC);
    const isDataOrNc = !conformingCode;
    if ((load<u32>(segAddr(seg) + SEG_SELECTOR) & 0xfffc) == 0) continue;
    if (isDataOrNc && dpl < newCpl) setSegmentCache(seg, 0, 0, 0, 0);
  }
}

/** Offset-window check for a read of `size` bytes at `offset` through `seg`; returns the linear address. */
@inline export function linearForRead(seg: i32, offset: u32, size: u32): u32 {
  // A flat segment only faults an access that wraps past 4 GiB.
  if ((load<u32>(STATE + S_FLAT) & (<u32>1 << seg)) && offset <= ~(size - 1)) return offset;
  const a = segAddr(seg);
  if (offset < load<u32>(a + SEG_READ_LO) || <u64>offset + <u64>(size - 1) > <u64>load<u32>(a + SEG_READ_HI)) {
    segmentFault(seg, offset);
  }
  return load<u32>(a + SEG_BASE) + offset;
}

@inline export function linearForWrite(seg: i32, offset: u32, size: u32): u32 {
  if ((load<u32>(STATE + S_FLAT) & (<u32>0x100 << seg)) && offset <= ~(size - 1)) return offset;
  const a = segAddr(seg);
  if (offset < load<u32>(a + SEG_WRITE_LO) || <u64>offset + <u64>(size - 1) > <u64>load<u32>(a + SEG_WRITE_HI)) {
    segmentFault(seg, offset);
  }
  return load<u32>(a + SEG_BASE) + offset;
}

/** A failed window check: #SS(0) for the stack segment, #GP(0) otherwise. */
export function segmentFault(seg: i32, offset: u32): void {
  if (seg == SS) raise(EXC_SS, 0);
  gp(0);
}
