/**
 * Finds the firmware tables in guest physical memory the way an OS does: the ACPI RSDP (ACPI 2.0
 * section 5.2.5.1: the first KiB of the EBDA, then 0xE0000-0xFFFFF on 16-byte boundaries, with a
 * valid checksum) and everything it leads to (RSDT, XSDT, the tables they list, the FADT's FACS
 * and DSDT), and the MP floating pointer (MultiProcessor Specification 1.4 section 4.1: the first
 * KiB of the EBDA, the last KiB of base memory, or 0xF0000-0xFFFFF) with its configuration table.
 * Used by the boot-path trace to know which physical addresses to watch, and by the tests.
 * Broken or implausible structures are skipped, never followed outside memory.
 */

export interface LocatedTable {
  /** ACPI signature (RSDP, RSDT, XSDT, FACP, FACS, DSDT, APIC, HPET), or MP (floating pointer) / PCMP (MP configuration table). */
  name: string;
  address: number;
  length: number;
}

/** Guest physical memory reader; out-of-range bytes may read as anything (they are checked). */
export type PhysicalReader = (address: number, length: number) => Uint8Array;

const MAX_TABLE = 1 << 20;

function sum(bytes: Uint8Array): number {
  let s = 0;
  for (const b of bytes) s = (s + b) & 0xff;
  return s;
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

function u64Low(bytes: Uint8Array, at: number): number {
  // Tables above 4 GiB cannot be in this machine's memory; treat them as absent.
  return u32(bytes, at + 4) === 0 ? u32(bytes, at) : 0;
}

/** Search [start, end) on `step`-byte boundaries for a signature whose structure passes `valid`. */
function scan(read: PhysicalReader, start: number, end: number, signature: string, valid: (at: number) => boolean): number | undefined {
  if (end <= start) return undefined;
  const area = read(start, end - start);
  for (let off = 0; off + signature.length <= area.length; off += 16) {
    if (ascii(area, off, signature.length) === signature && valid(start + off)) return start + off;
  }
  return undefined;
}

function searchAreas(read: PhysicalReader, memoryBytes: number): [number, number][] {
  const ebda = (read(0x40e, 2)[0] | (read(0x40e, 2)[1] << 8)) << 4;
  const baseKiB = read(0x413, 2)[0] | (read(0x413, 2)[1] << 8);
  const areas: [number, number][] = [];
  if (ebda >= 0x80000 && ebda < 0xa0000) areas.push([ebda, ebda + 1024]);
  if (baseKiB >= 512 && baseKiB <= 640) areas.push([baseKiB * 1024 - 1024, baseKiB * 1024]);
  areas.push([0xe0000, Math.min(0x100000, Math.max(memoryBytes, 0x100000))]);
  return areas;
}

/** The ACPI tables reachable from the RSDP, RSDP first; empty without an RSDP. */
export function locateAcpiTables(read: PhysicalReader, memoryBytes: number): LocatedTable[] {
  let rsdp: number | undefined;
  for (const [start, end] of searchAreas(read, memoryBytes)) {
    rsdp = scan(read, start, end, 'RSD PTR ', (at) => sum(read(at, 20)) === 0);
    if (rsdp !== undefined) break;
  }
  if (rsdp === undefined) return [];
  const head = read(rsdp, 36);
  const revision = head[15];
  const rsdpLength = revision >= 2 ? u32(head, 20) : 20;
  const found: LocatedTable[] = [{ name: 'RSDP', address: rsdp, length: rsdpLength >= 20 && rsdpLength <= 64 ? rsdpLength : 20 }];
  const seen = new Set<number>();

  const table = (address: number, expect?: string): Uint8Array | undefined => {
    if (!address || address + 36 > memoryBytes || seen.has(address)) return undefined;
    const header = read(address, 36);
    const length = u32(header, 4);
    const signature = ascii(header, 0, 4);
    if (length < 36 || length > MAX_TABLE || address + length > memoryBytes) return undefined;
    if (expect && signature !== expect) return undefined;
    if (!/^[A-Z0-9_]{4}$/.test(signature)) return undefined;
    seen.add(address);
    found.push({ name: signature, address, length });
    return read(address, length);
  };

  const listed: number[] = [];
  const rsdt = table(u32(head, 16), 'RSDT');
  if (rsdt) for (let at = 36; at + 4 <= rsdt.length; at += 4) listed.push(u32(rsdt, at));
  if (revision >= 2) {
    const xsdt = table(u64Low(head, 24), 'XSDT');
    if (xsdt) for (let at = 36; at + 8 <= xsdt.length; at += 8) listed.push(u64Low(xsdt, at));
  }
  for (const address of listed) {
    const t = table(address);
    if (!t || ascii(t, 0, 4) !== 'FACP') continue;
    const facs = [u32(t, 36), t.length >= 140 ? u64Low(t, 132) : 0];
    const dsdt = [u32(t, 40), t.length >= 148 ? u64Low(t, 140) : 0];
    for (const f of facs) {
      if (!f || seen.has(f) || f + 64 > memoryBytes) continue;
      const header = read(f, 8);
      const length = u32(header, 4);
      if (ascii(header, 0, 4) !== 'FACS' || length < 64 || length > MAX_TABLE) continue;
      seen.add(f);
      found.push({ name: 'FACS', address: f, length });
    }
    for (const d of dsdt) table(d, 'DSDT');
  }
  return found;
}

/** The MP floating pointer ("MP") and its configuration table ("PCMP"), if any. */
export function locateMpTable(read: PhysicalReader, memoryBytes: number): LocatedTable[] {
  let pointer: number | undefined;
  for (const [start, end] of searchAreas(read, memoryBytes)) {
    pointer = scan(read, Math.max(start, start === 0xe0000 ? 0xf0000 : start), end, '_MP_', (at) => {
      const p = read(at, 16);
      return p[8] >= 1 && sum(read(at, p[8] * 16)) === 0;
    });
    if (pointer !== undefined) break;
  }
  if (pointer === undefined) return [];
  const p = read(pointer, 16);
  const found: LocatedTable[] = [{ name: 'MP', address: pointer, length: p[8] * 16 }];
  const config = u32(p, 4);
  if (config && config + 44 <= memoryBytes) {
    const header = read(config, 8);
    const length = header[4] | (header[5] << 8);
    if (ascii(header, 0, 4) === 'PCMP' && length >= 44 && config + length <= memoryBytes) found.push({ name: 'PCMP', address: config, length });
  }
  return found;
}
