// Linear and physical memory: the physical page map, paging (2-level, PSE, PAE with NX) and a
// software TLB with one entry per 4 KiB linear page. A TLB hit is a load, a mask, a compare and
// an add; misses, page-crossing accesses and device pages take the slow path.
import {
  STATE, PHYS_MAP, TLB, TLB_LIST, TLB_LIST_CAPACITY, S_CR0, S_CR2, S_CR3, S_CR4, S_EFER, S_A20, S_CPL,
  PHYS_DEVICE, PHYS_READONLY, TLB_VALID, TLB_NO_USER, TLB_NO_WRITE_USER, TLB_NO_WRITE_SUPER, TLB_DEVICE,
  TLB_NO_EXEC, TLB_ROM, TLB_LISTED, TLB_GLOBAL, CR0_PG, CR0_WP, CR4_PSE, CR4_PAE, CR4_PGE, EFER_NXE, EXC_PF,
} from './layout';
import { mmioRead, mmioWrite } from './imports';
import { raise } from './fault';

const PG_P: u32 = 1;
const PG_RW: u32 = 2;
const PG_US: u32 = 4;
const PG_A: u32 = 0x20;
const PG_D: u32 = 0x40;
const PG_PS: u32 = 0x80;
const PG_G: u32 = 0x100;

export const ACCESS_READ: i32 = 0;
export const ACCESS_WRITE: i32 = 1;
export const ACCESS_EXEC: i32 = 2;

// Masks for TLB hits, recomputed when CPL changes (see updateAccessMasks).
let readMask: u32 = TLB_VALID | TLB_DEVICE;
let writeMask: u32 = TLB_VALID | TLB_DEVICE | TLB_NO_WRITE_SUPER;
let execMask: u32 = TLB_VALID | TLB_DEVICE | TLB_NO_EXEC;
let tlbListCount: u32 = 0;

export function updateAccessMasks(): void {
  const user = load<u32>(STATE + S_CPL) == 3;
  readMask = TLB_VALID | TLB_DEVICE | (user ? TLB_NO_USER : 0);
  writeMask = TLB_VALID | TLB_DEVICE | (user ? TLB_NO_USER | TLB_NO_WRITE_USER : TLB_NO_WRITE_SUPER);
  execMask = readMask | TLB_NO_EXEC;
  invalidateFetch();
}

// ---------------------------------------------------------------------------------------------
// Physical memory
// ---------------------------------------------------------------------------------------------

@inline function physEntry(pa: u32): u32 {
  return load<u32>(PHYS_MAP + ((pa >>> 12) << 2));
}

/** Physical address after the A20 gate. */
@inline export function a20(pa: u32): u32 {
  return load<u32>(STATE + S_A20) ? pa : pa & ~(<u32>1 << 20);
}

export function physRead8(pa: u32): u32 {
  const e = physEntry(pa);
  if (e & PHYS_DEVICE) return mmioRead(pa, 1) & 0xff;
  return <u32>load<u8>((e & ~0xfff) + (pa & 0xfff));
}
export function physRead16(pa: u32): u32 {
  if ((pa & 0xfff) == 0xfff) return physRead8(pa) | (physRead8(pa + 1) << 8);
  const e = physEntry(pa);
  if (e & PHYS_DEVICE) return mmioRead(pa, 2) & 0xffff;
  return <u32>load<u16>((e & ~0xfff) + (pa & 0xfff));
}
export function physRead32(pa: u32): u32 {
  if ((pa & 0xfff) > 0xffc) return physRead16(pa) | (physRead16(pa + 2) << 16);
  const e = physEntry(pa);
  if (e & PHYS_DEVICE) return mmioRead(pa, 4);
  return load<u32>((e & ~0xfff) + (pa & 0xfff));
}
export function physWrite8(pa: u32, v: u32): void {
  const e = physEntry(pa);
  if (e & PHYS_DEVICE) mmioWrite(pa, 1, v & 0xff);
  else if (!(e & PHYS_READONLY)) store<u8>((e & ~0xfff) + (pa & 0xfff), <u8>v);
}
export function physWrite16(pa: u32, v: u32): void {
  if ((pa & 0xfff) == 0xfff) {
    physWrite8(pa, v);
    physWrite8(pa + 1, v >>> 8);
    return;
  }
  const e = physEntry(pa);
  if (e & PHYS_DEVICE) mmioWrite(pa, 2, v & 0xffff);
  else if (!(e & PHYS_READONLY)) store<u16>((e & ~0xfff) + (pa & 0xfff), <u16>v);
}
export function physWrite32(pa: u32, v: u32): void {
  if ((pa & 0xfff) > 0xffc) {
    physWrite16(pa, v);
    physWrite16(pa + 2, v >>> 16);
    return;
  }
  const e = physEntry(pa);
  if (e & PHYS_DEVICE) mmioWrite(pa, 4, v);
  else if (!(e & PHYS_READONLY)) store<u32>((e & ~0xfff) + (pa & 0xfff), v);
}

// ---------------------------------------------------------------------------------------------
// TLB
// ---------------------------------------------------------------------------------------------

/** Drop every TLB entry (CR0/CR4 paging changes, A20 changes, physical map changes). */
export function flushTlb(): void {
  flushTlbEntries(false);
}

/** CR3 load: drop every entry except global pages when CR4.PGE is on. */
export function flushTlbNonGlobal(): void {
  flushTlbEntries((load<u32>(STATE + S_CR4) & CR4_PGE) != 0);
}

function flushTlbEntries(keepGlobal: bool): void {
  let kept: u32 = 0;
  for (let i: u32 = 0; i < tlbListCount; i++) {
    const item = load<u32>(TLB_LIST + (i << 2));
    if (keepGlobal && (item & 0x8000_0000)) {
      store<u32>(TLB_LIST + (kept << 2), item);
      kept++;
    } else {
      store<u32>(TLB + ((item & 0xfffff) << 2), 0);
    }
  }
  tlbListCount = kept;
  invalidateFetch();
}

/** INVLPG: drop the entry of one linear page (global or not). */
export function invalidatePage(lin: u32): void {
  const at = TLB + ((lin >>> 12) << 2);
  const e = load<u32>(at);
  // A filled entry is in the fill list: keep it marked as listed (with its global bit) so the
  // next fill does not append it again. An empty entry is not listed and stays empty.
  if (e != 0) store<u32>(at, TLB_LISTED | (e & TLB_GLOBAL));
  invalidateFetch();
}

function tlbInsert(vpn: u32, entry: u32, global: bool): void {
  if (tlbListCount >= TLB_LIST_CAPACITY) flushTlbEntries(false);
  const old = load<u32>(TLB + (vpn << 2));
  // Append unless already listed; a page listed as global that comes back non-global gets a
  // non-global item too, so a CR3 reload clears it.
  if (old == 0 || ((old & TLB_GLOBAL) && !global)) {
    store<u32>(TLB_LIST + (tlbListCount << 2), vpn | (global ? 0x8000_0000 : 0));
    tlbListCount++;
  }
  store<u32>(TLB + (vpn << 2), global ? entry | TLB_GLOBAL : entry);
}

// ---------------------------------------------------------------------------------------------
// Page walk
// ---------------------------------------------------------------------------------------------

/** True when the access is made at user privilege (CPL 3 and not an implicit system access). */
let systemAccess: bool = false;

/** Descriptor-table and TSS accesses are supervisor accesses whatever the CPL. */
export function beginSystemAccess(): void {
  systemAccess = true;
}
export function endSystemAccess(): void {
  systemAccess = false;
}

function pageFault(lin: u32, code: u32): void {
  store<u32>(STATE + S_CR2, lin);
  raise(EXC_PF, <i32>code);
}

/**
 * Translate a linear address for an access, filling the TLB; raises #PF. Returns the TLB entry.
 */
export function translate(lin: u32, access: i32): u32 {
  const cr0 = load<u32>(STATE + S_CR0);
  const vpn = lin >>> 12;
  const user = !systemAccess && load<u32>(STATE + S_CPL) == 3;
  const write = access == ACCESS_WRITE;
  if (!(cr0 & CR0_PG)) {
    const pa = a20(lin & ~0xfff);
    const entry = pageEntry(pa, lin, TLB_VALID);
    tlbInsert(vpn, entry, false);
    return entry;
  }
  const cr4 = load<u32>(STATE + S_CR4);
  const cr3 = load<u32>(STATE + S_CR3);
  let allow: u32 = PG_RW | PG_US; // AND of the RW/US bits along the walk
  let pa: u64 = 0;
  let nx = false;
  let dirty = true;
  let global = false;
  const errBase: u32 = (write ? 2 : 0) | (user ? 4 : 0);
  if (cr4 & CR4_PAE) {
    const nxe = (load<u32>(STATE + S_EFER) & EFER_NXE) != 0;
    const idBit: u32 = nxe && access == ACCESS_EXEC ? 0x10 : 0;
    const pdpteAddr = a20((cr3 & 0xffff_ffe0) + ((lin >>> 30) << 3));
    const pdpte = (<u64>physRead32(pdpteAddr + 4) << 32) | <u64>physRead32(pdpteAddr);
    if (!(<u32>pdpte & PG_P)) pageFault(lin, errBase | idBit);
    const pdeAddr = a20(<u32>(pdpte & 0xf_ffff_f000) + (((lin >>> 21) & 0x1ff) << 3));
    let pde = (<u64>physRead32(pdeAddr + 4) << 32) | <u64>physRead32(pdeAddr);
    if (!(<u32>pde & PG_P)) pageFault(lin, errBase | idBit);
    if (reservedPae(pde, nxe, (<u32>pde & PG_PS) != 0)) pageFault(lin, errBase | idBit | 9);
    allow &= <u32>pde;
    nx = nxe && (pde >>> 63) != 0;
    if (<u32>pde & PG_PS) {
      checkAccess(lin, allow, nx, user, write, access, errBase | idBit | 1, cr0);
      let newPde = <u32>pde | PG_A | (write ? PG_D : 0);
      if (newPde != <u32>pde) physWrite32(pdeAddr, newPde);
      dirty = (newPde & PG_D) != 0;
      global = (<u32>pde & PG_G) != 0;
      pa = (pde & 0xf_ffe0_0000) | <u64>(lin & 0x1f_f000);
    } else {
      const pteAddr = a20(<u32>(pde & 0xf_ffff_f000) + (((lin >>> 12) & 0x1ff) << 3));
      const pte = (<u64>physRead32(pteAddr + 4) << 32) | <u64>physRead32(pteAddr);
      if (!(<u32>pte & PG_P)) pageFault(lin, errBase | idBit);
      if (reservedPae(pte, nxe, false)) pageFault(lin, errBase | idBit | 9);
      allow &= <u32>pte;
      nx = nx || (nxe && (pte >>> 63) != 0);
      checkAccess(lin, allow, nx, user, write, access, errBase | idBit | 1, cr0);
      if (!(<u32>pde & PG_A)) physWrite32(pdeAddr, <u32>pde | PG_A);
      const newPte = <u32>pte | PG_A | (write ? PG_D : 0);
      if (newPte != <u32>pte) physWrite32(pteAddr, newPte);
      dirty = (newPte & PG_D) != 0;
      global = (<u32>pte & PG_G) != 0;
      pa = (pte & 0xf_ffff_f000);
    }
  } else {
    const pdeAddr = a20((cr3 & 0xffff_f000) + ((lin >>> 22) << 2));
    const pde = physRead32(pdeAddr);
    if (!(pde & PG_P)) pageFault(lin, errBase);
    allow &= pde;
    if ((pde & PG_PS) && (cr4 & CR4_PSE)) {
      // Without PSE-36 (not in CPUID) bits 21:13 of a 4 MiB PDE are reserved (SDM table 4-4).
      if (pde & 0x3f_e000) pageFault(lin, errBase | 9);
      checkAccess(lin, allow, false, user, write, access, errBase | 1, cr0);
      const newPde = pde | PG_A | (write ? PG_D : 0);
      if (newPde != pde) physWrite32(pdeAddr, newPde);
      dirty = (newPde & PG_D) != 0;
      global = (pde & PG_G) != 0;
      pa = <u64>((pde & 0xffc0_0000) | (lin & 0x3f_f000));
    } else {
      const pteAddr = a20((pde & 0xffff_f000) + (((lin >>> 12) & 0x3ff) << 2));
      const pte = physRead32(pteAddr);
      if (!(pte & PG_P)) pageFault(lin, errBase);
      allow &= pte;
      checkAccess(lin, allow, false, user, write, access, errBase | 1, cr0);
      if (!(pde & PG_A)) physWrite32(pdeAddr, pde | PG_A);
      const newPte = pte | PG_A | (write ? PG_D : 0);
      if (newPte != pte) physWrite32(pteAddr, newPte);
      dirty = (newPte & PG_D) != 0;
      global = (pte & PG_G) != 0;
      pa = <u64>(pte & 0xffff_f000);
    }
  }
  let flags: u32 = TLB_VALID;
  if (!(allow & PG_US)) flags |= TLB_NO_USER;
  if (!(allow & PG_RW)) {
    flags |= TLB_NO_WRITE_USER;
    if (cr0 & CR0_WP) flags |= TLB_NO_WRITE_SUPER;
  }
  // A clean page must take the slow path on its first write so the walk sets the dirty bit.
  if (!dirty) flags |= TLB_NO_WRITE_USER | TLB_NO_WRITE_SUPER;
  if (nx) flags |= TLB_NO_EXEC;
  let entry: u32;
  if (pa >= 0x1_0000_0000) entry = <u32>(0 - (lin & ~0xfff)) | flags | TLB_DEVICE;
  else entry = pageEntry(a20(<u32>pa), lin, flags);
  tlbInsert(vpn, entry, global && (cr4 & CR4_PGE) != 0);
  return entry;
}

function reservedPae(e: u64, nxe: bool, large: bool): bool {
  // Physical address bits 36-62 are reserved (36-bit physical addresses); bit 63 unless NXE.
  if ((e & 0x7fff_fff0_0000_0000) != 0) return true;
  if (!nxe && (e >>> 63) != 0) return true;
  if (large && (<u32>e & 0x1f_e000) != 0) return true;
  return false;
}

function checkAccess(lin: u32, allow: u32, nx: bool, user: bool, write: bool, access: i32, code: u32, cr0: u32): void {
  if (user) {
    if (!(allow & PG_US)) pageFault(lin, code);
    if (write && !(allow & PG_RW)) pageFault(lin, code);
  } else if (write && !(allow & PG_RW) && (cr0 & CR0_WP)) {
    pageFault(lin, code);
  }
  if (nx && access == ACCESS_EXEC) pageFault(lin, code);
}

/** The TLB entry for linear page `lin` mapped to physical page `pa`, with walk flags. */
function pageEntry(pa: u32, lin: u32, flags: u32): u32 {
  const e = physEntry(pa);
  let f = flags;
  let host = e & ~0xfff;
  if (e & PHYS_DEVICE) {
    f |= TLB_DEVICE;
    host = pa; // the slow path recovers the physical address from the entry
  } else if (e & PHYS_READONLY) {
    f |= TLB_ROM | TLB_NO_WRITE_USER | TLB_NO_WRITE_SUPER;
  }
  return ((host - (lin & ~0xfff)) & ~0xfff) | f;
}

// ---------------------------------------------------------------------------------------------
// Linear accesses (after segmentation)
// ---------------------------------------------------------------------------------------------

@inline function tlbEntry(lin: u32): u32 {
  return load<u32>(TLB + ((lin >>> 12) << 2));
}

/** Translate and check one page for `access`; returns the TLB entry (may be a device entry). */
function entryFor(lin: u32, access: i32): u32 {
  const e = tlbEntry(lin);
  const mask = access == ACCESS_WRITE ? writeMask : access == ACCESS_EXEC ? execMask : readMask;
  if ((e & (mask & ~TLB_DEVICE)) == TLB_VALID && !systemAccess) return e;
  return translate(lin, access);
}

function slowRead8(lin: u32): u32 {
  const e = entryFor(lin, ACCESS_READ);
  const addr = (e & ~0xfff) + lin;
  if (e & TLB_DEVICE) return physRead8(addr);
  return <u32>load<u8>(addr);
}
function slowWrite8(lin: u32, v: u32): void {
  const e = entryFor(lin, ACCESS_WRITE);
  const addr = (e & ~0xfff) + lin;
  if (e & TLB_DEVICE) physWrite8(addr, v);
  else if (!(e & TLB_ROM)) store<u8>(addr, <u8>v);
}

@inline export function readLin8(lin: u32): u32 {
  const e = tlbEntry(lin);
  if ((e & readMask) == TLB_VALID) return <u32>load<u8>((e & ~0xfff) + lin);
  return slowRead8(lin);
}
@inline export function readLin16(lin: u32): u32 {
  const e = tlbEntry(lin);
  if ((e & readMask) == TLB_VALID && (lin & 0xfff) != 0xfff) return <u32>load<u16>((e & ~0xfff) + lin);
  return slowRead16(lin);
}
@inline export function readLin32(lin: u32): u32 {
  const e = tlbEntry(lin);
  if ((e & readMask) == TLB_VALID && (lin & 0xfff) <= 0xffc) return load<u32>((e & ~0xfff) + lin);
  return slowRead32(lin);
}
@inline export function writeLin8(lin: u32, v: u32): void {
  const e = tlbEntry(lin);
  if ((e & writeMask) == TLB_VALID) store<u8>((e & ~0xfff) + lin, <u8>v);
  else slowWrite8(lin, v);
}
@inline export function writeLin16(lin: u32, v: u32): void {
  const e = tlbEntry(lin);
  if ((e & writeMask) == TLB_VALID && (lin & 0xfff) != 0xfff) store<u16>((e & ~0xfff) + lin, <u16>v);
  else slowWrite16(lin, v);
}
@inline export function writeLin32(lin: u32, v: u32): void {
  const e = tlbEntry(lin);
  if ((e & writeMask) == TLB_VALID && (lin & 0xfff) <= 0xffc) store<u32>((e & ~0xfff) + lin, v);
  else slowWrite32(lin, v);
}

/**
 * First byte of the page after the one holding `lin`: where a page-crossing access touches its
 * second page, and so the CR2 value when that page faults (not the access's last byte).
 */
@inline function nextPage(lin: u32): u32 {
  return (lin | 0xfff) + 1;
}

export function slowRead16(lin: u32): u32 {
  if ((lin & 0xfff) == 0xfff) {
    // Check both pages before reading either, so a fault on the second leaves nothing half done.
    entryFor(lin, ACCESS_READ);
    entryFor(lin + 1, ACCESS_READ); // lin + 1 starts the second page (CR2 on a fault)
    return slowRead8(lin) | (slowRead8(lin + 1) << 8);
  }
  const e = entryFor(lin, ACCESS_READ);
  const addr = (e & ~0xfff) + lin;
  if (e & TLB_DEVICE) return physRead16(addr);
  return <u32>load<u16>(addr);
}
export function slowRead32(lin: u32): u32 {
  if ((lin & 0xfff) > 0xffc) {
    entryFor(lin, ACCESS_READ);
    entryFor(nextPage(lin), ACCESS_READ);
    return slowRead8(lin) | (slowRead8(lin + 1) << 8) | (slowRead8(lin + 2) << 16) | (slowRead8(lin + 3) << 24);
  }
  const e = entryFor(lin, ACCESS_READ);
  const addr = (e & ~0xfff) + lin;
  if (e & TLB_DEVICE) return physRead32(addr);
  return load<u32>(addr);
}
export function slowWrite16(lin: u32, v: u32): void {
  if ((lin & 0xfff) == 0xfff) {
    entryFor(lin, ACCESS_WRITE);
    entryFor(lin + 1, ACCESS_WRITE);
    slowWrite8(lin, v);
    slowWrite8(lin + 1, v >>> 8);
    return;
  }
  const e = entryFor(lin, ACCESS_WRITE);
  const addr = (e & ~0xfff) + lin;
  if (e & TLB_DEVICE) physWrite16(addr, v);
  else if (!(e & TLB_ROM)) store<u16>(addr, <u16>v);
}
export function slowWrite32(lin: u32, v: u32): void {
  if ((lin & 0xfff) > 0xffc) {
    entryFor(lin, ACCESS_WRITE);
    entryFor(nextPage(lin), ACCESS_WRITE);
    for (let i: u32 = 0; i < 4; i++) slowWrite8(lin + i, v >>> (i * 8));
    return;
  }
  const e = entryFor(lin, ACCESS_WRITE);
  const addr = (e & ~0xfff) + lin;
  if (e & TLB_DEVICE) physWrite32(addr, v);
  else if (!(e & TLB_ROM)) store<u32>(addr, v);
}

/**
 * Host address of linear `lin` when its page is plain RAM already in the TLB with read (or write)
 * permission for the current privilege, else 0. Never faults: bulk paths use it and fall back to
 * the element-by-element path, which translates and faults exactly.
 */
export function hostIfReadable(lin: u32): u32 {
  const e = tlbEntry(lin);
  return (e & readMask) == TLB_VALID && !systemAccess ? (e & ~0xfff) + lin : 0;
}
export function hostIfWritable(lin: u32): u32 {
  const e = tlbEntry(lin);
  return (e & writeMask) == TLB_VALID && !systemAccess ? (e & ~0xfff) + lin : 0;
}

/** Make sure `size` bytes at `lin` are writable (faulting now if not), for read-modify-write. */
export function probeWrite(lin: u32, size: u32): void {
  const e = tlbEntry(lin);
  if ((e & writeMask) == TLB_VALID && (lin & 0xfff) <= 0x1000 - size) return;
  entryFor(lin, ACCESS_WRITE);
  if (((lin + size - 1) ^ lin) & ~0xfff) entryFor(nextPage(lin), ACCESS_WRITE);
}

/** Make sure `size` bytes at `lin` are readable (faulting now if not). */
export function probeRead(lin: u32, size: u32): void {
  entryFor(lin, ACCESS_READ);
  if (((lin + size - 1) ^ lin) & ~0xfff) entryFor(nextPage(lin), ACCESS_READ);
}

// ---------------------------------------------------------------------------------------------
// Instruction fetch: a window of EIP values whose bytes are read straight from host memory. It
// covers the current code page, clamped to CS's limit; leaving it, or a change to CS, the TLB or
// the CPL (invalidateFetch), takes fetchSlow.
// ---------------------------------------------------------------------------------------------

/** Host address minus EIP inside the window (CS's base is folded in). */
export let fetchDelta: u32 = 0;
/** The window is the EIP range [fetchStart, fetchStart + fetchLen). */
export let fetchStart: u32 = 0;
export let fetchLen: u32 = 0;
/** A 4-byte fetch at EIP - fetchStart < fetchLen4 lies wholly in the window. */
export let fetchLen4: u32 = 0;

export function invalidateFetch(): void {
  // An empty window: (eip - start) < 0 is never true.
  fetchLen = 0;
  fetchLen4 = 0;
}

/**
 * Read the code byte at `eip` (linear address `lin`, checked against `limit`, CS's limit, by the
 * caller) through the TLB, and make its page the fetch window when it is RAM or ROM.
 */
export function fetchSlow(lin: u32, eip: u32, limit: u32): u32 {
  const e = entryFor(lin, ACCESS_EXEC);
  const addr = (e & ~0xfff) + lin;
  if (e & TLB_DEVICE) {
    invalidateFetch();
    return physRead8(addr);
  }
  // The window never wraps around EIP 0 or 4 GiB, so one unsigned compare tests it.
  const inPage = lin & 0xfff;
  const back = inPage < eip ? inPage : eip;
  const ahead = <u64>(0x1000 - inPage);
  const toLimit = <u64>limit + 1 - <u64>eip;
  let end = <u64>eip + (ahead < toLimit ? ahead : toLimit);
  if (end > 0xffff_ffff) end = 0xffff_ffff; // the last byte of the EIP space takes this path
  fetchStart = eip - back;
  fetchLen = <u32>end - fetchStart;
  fetchLen4 = fetchLen > 3 ? fetchLen - 3 : 0;
  fetchDelta = addr - eip;
  return <u32>load<u8>(addr);
}

/** Host address of guest physical memory at `pa` for bulk access, or 0 if not plain RAM. */
export function physHost(pa: u32): u32 {
  const e = physEntry(pa);
  if (e & (PHYS_DEVICE | PHYS_READONLY)) return 0;
  return (e & ~0xfff) + (pa & 0xfff);
}
