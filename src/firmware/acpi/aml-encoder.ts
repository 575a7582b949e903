/**
 * A small encoder for ACPI Machine Language, enough to write the DSDT of this board in
 * TypeScript. Follows the ACPI 2.0 specification, chapter 16 ("ACPI Source Language Reference"
 * for the meaning, section 16.2 "ACPI Machine Language Grammar" for the bytes). Every function
 * returns the encoded bytes of one term, so a table is built the way it reads in ASL:
 *
 *   scope('\\_SB', device('LNKA', name('_HID', eisaId('PNP0C0F')), ...))
 *
 * Left out: everything this board's DSDT does not need (mutexes, events, buffers fields other
 * than CreateDWordField, While, arithmetic beyond And/Or, 64-bit integers: the DSDT is revision 1,
 * whose integers are 32 bits wide, which Windows 2000/XP expect).
 */

export type Aml = Uint8Array;

// Opcodes (ACPI 2.0 section 16.3 "ACPI Machine Language Grammar", table of opcodes).
const ZERO_OP = 0x00;
const ONE_OP = 0x01;
const NAME_OP = 0x08;
const BYTE_PREFIX = 0x0a;
const WORD_PREFIX = 0x0b;
const DWORD_PREFIX = 0x0c;
const STRING_PREFIX = 0x0d;
const SCOPE_OP = 0x10;
const BUFFER_OP = 0x11;
const PACKAGE_OP = 0x12;
const METHOD_OP = 0x14;
const DUAL_NAME_PREFIX = 0x2e;
const MULTI_NAME_PREFIX = 0x2f;
const EXT_OP_PREFIX = 0x5b;
const ROOT_CHAR = 0x5c;
const PARENT_PREFIX_CHAR = 0x5e;
const LOCAL0_OP = 0x60;
const ARG0_OP = 0x68;
const STORE_OP = 0x70;
const AND_OP = 0x7b;
const OR_OP = 0x7d;
const CREATE_DWORD_FIELD_OP = 0x8a;
const LNOT_OP = 0x92;
const LEQUAL_OP = 0x93;
const IF_OP = 0xa0;
const ELSE_OP = 0xa1;
const RETURN_OP = 0xa4;
const ONES_OP = 0xff;
// Extended (0x5B-prefixed) opcodes.
const OP_REGION_OP = 0x80;
const FIELD_OP = 0x81;
const DEVICE_OP = 0x82;
const PROCESSOR_OP = 0x83;

/** The largest PkgLength AML can express: 28 bits. */
const MAX_PKG_LENGTH = 0x0fffffff;

/** Joins encoded terms and raw bytes. */
export function concat(...parts: (Aml | readonly number[])[]): Aml {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * PkgLength for `contentLength` bytes that follow it; the encoded length counts itself. One byte
 * holds up to 63; longer ones spread over 2-4 bytes, the lead byte's bits 7:6 giving the number
 * of following bytes and its bits 3:0 the low nibble.
 */
export function pkgLength(contentLength: number): number[] {
  if (contentLength + 1 <= 0x3f) return [contentLength + 1];
  for (let extra = 1; extra <= 3; extra++) {
    const total = contentLength + 1 + extra;
    if (total < 1 << (4 + 8 * extra)) {
      const out = [(extra << 6) | (total & 0x0f)];
      for (let i = 0; i < extra; i++) out.push((total >>> (4 + 8 * i)) & 0xff);
      return out;
    }
  }
  throw new RangeError(`AML package of ${contentLength} bytes exceeds ${MAX_PKG_LENGTH}`);
}

/** A term with a PkgLength in front of its contents: [...opcode, PkgLength, ...contents]. */
function withPkgLength(opcode: readonly number[], ...contents: (Aml | readonly number[])[]): Aml {
  const body = concat(...contents);
  return concat(opcode, pkgLength(body.length), body);
}

const NAME_SEG_CHARS = /^[A-Z_][A-Z0-9_]{0,3}$/;

/** A NameSeg: four characters, padded with '_' as ASL does ("ISA" is "ISA_"). */
export function nameSeg(seg: string): number[] {
  if (!NAME_SEG_CHARS.test(seg)) throw new RangeError(`"${seg}" is not an ACPI name segment (1-4 of A-Z, 0-9, _; not starting with a digit)`);
  const padded = seg.padEnd(4, '_');
  return [...padded].map((c) => c.charCodeAt(0));
}

/**
 * A NameString from ASL path syntax: "\\_SB.PCI0" (absolute), "^LNKA" (parent-relative) or
 * "PICF" (relative, found by the search rules).
 */
export function nameString(path: string): Aml {
  let at = 0;
  const prefix: number[] = [];
  if (path[0] === '\\') {
    prefix.push(ROOT_CHAR);
    at = 1;
  } else {
    while (path[at] === '^') {
      prefix.push(PARENT_PREFIX_CHAR);
      at++;
    }
  }
  const rest = path.slice(at);
  if (rest === '') return concat(prefix, [0x00]); // NullName
  const segs = rest.split('.').map(nameSeg);
  if (segs.length === 1) return concat(prefix, segs[0]);
  if (segs.length === 2) return concat(prefix, [DUAL_NAME_PREFIX], segs[0], segs[1]);
  if (segs.length > 255) throw new RangeError(`name path "${path}" has too many segments`);
  return concat(prefix, [MULTI_NAME_PREFIX, segs.length], ...segs);
}

function checkU32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${what} ${value} is not a 32-bit unsigned integer (the DSDT is revision 1)`);
  }
}

/** The shortest encoding of an integer constant: Zero, One, Ones, or a Byte/Word/DWord const. */
export function integer(value: number): Aml {
  checkU32(value, 'integer');
  if (value === 0) return Uint8Array.of(ZERO_OP);
  if (value === 1) return Uint8Array.of(ONE_OP);
  if (value <= 0xff) return Uint8Array.of(BYTE_PREFIX, value);
  if (value <= 0xffff) return Uint8Array.of(WORD_PREFIX, value & 0xff, value >>> 8);
  return dword(value);
}

/** A DWordConst whatever the value (EISA IDs and PCI addresses are always written this way). */
export function dword(value: number): Aml {
  checkU32(value, 'dword');
  return Uint8Array.of(DWORD_PREFIX, value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24);
}

/** The constant Ones (all bits set: 0xFFFFFFFF in a revision-1 table). */
export const ONES = Uint8Array.of(ONES_OP);
export const ZERO = Uint8Array.of(ZERO_OP);
export const ONE = Uint8Array.of(ONE_OP);

/**
 * The 32-bit compressed EISA ID of a PnP ID such as "PNP0A03", as ASL's EISAID() makes it: three
 * letters of 5 bits (A = 1) and four hex digits, stored most significant byte first.
 */
export function eisaIdValue(id: string): number {
  if (!/^[A-Z@]{3}[0-9A-F]{4}$/.test(id)) throw new RangeError(`"${id}" is not a PnP ID (three letters, four hex digits)`);
  const c = (i: number) => id.charCodeAt(i) - 0x40;
  const hex = parseInt(id.slice(3), 16);
  const b0 = (c(0) << 2) | (c(1) >> 3);
  const b1 = ((c(1) & 7) << 5) | c(2);
  const b2 = hex >>> 8;
  const b3 = hex & 0xff;
  return (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0;
}

export function eisaId(id: string): Aml {
  return dword(eisaIdValue(id));
}

/** A String constant (printable ASCII, NUL-terminated in AML). */
export function string(text: string): Aml {
  const bytes = [...text].map((ch) => {
    const code = ch.charCodeAt(0);
    if (code < 0x01 || code > 0x7f) throw new RangeError(`AML strings are ASCII: "${text}"`);
    return code;
  });
  return concat([STRING_PREFIX], bytes, [0x00]);
}

export function arg(n: number): Aml {
  if (!Number.isInteger(n) || n < 0 || n > 6) throw new RangeError(`Arg${n} does not exist (Arg0-Arg6)`);
  return Uint8Array.of(ARG0_OP + n);
}

export function local(n: number): Aml {
  if (!Number.isInteger(n) || n < 0 || n > 7) throw new RangeError(`Local${n} does not exist (Local0-Local7)`);
  return Uint8Array.of(LOCAL0_OP + n);
}

/** A reference to a named object, as a term (the NameString itself). */
export const ref = nameString;

// ---- Named objects and namespace modifiers ----

export function scope(path: string, ...terms: Aml[]): Aml {
  return withPkgLength([SCOPE_OP], nameString(path), ...terms);
}

export function name(path: string, value: Aml): Aml {
  return concat([NAME_OP], nameString(path), value);
}

export function device(path: string, ...terms: Aml[]): Aml {
  return withPkgLength([EXT_OP_PREFIX, DEVICE_OP], nameString(path), ...terms);
}

/**
 * A control method. Flags: bits 2:0 the argument count, bit 3 serialized, bits 7:4 the sync
 * level (0 here).
 */
export function method(path: string, argCount: number, serialized: boolean, ...terms: Aml[]): Aml {
  if (!Number.isInteger(argCount) || argCount < 0 || argCount > 7) throw new RangeError(`a method takes 0-7 arguments, not ${argCount}`);
  return withPkgLength([METHOD_OP], nameString(path), [argCount | (serialized ? 0x08 : 0)], ...terms);
}

/**
 * A processor object (ACPI 2.0 section 16.2.3): its ACPI processor ID (matched by the MADT's
 * local APIC entries) and the P_BLK address and length (0 and 0: no throttling or C2/C3 block).
 */
export function processor(path: string, processorId: number, pblkAddress: number, pblkLength: number, ...terms: Aml[]): Aml {
  if (processorId < 0 || processorId > 0xff || pblkLength < 0 || pblkLength > 0xff) throw new RangeError('processor ID and P_BLK length are bytes');
  checkU32(pblkAddress, 'P_BLK address');
  const addr = dword(pblkAddress).subarray(1);
  return withPkgLength([EXT_OP_PREFIX, PROCESSOR_OP], nameString(path), [processorId], addr, [pblkLength], ...terms);
}

/** Address spaces of an operation region (ACPI 2.0 section 16.2.3, RegionSpace). */
export const RegionSpace = { SystemMemory: 0, SystemIO: 1, PCI_Config: 2, EmbeddedControl: 3, SMBus: 4, CMOS: 5 } as const;

export function operationRegion(path: string, space: number, offset: number, length: number): Aml {
  return concat([EXT_OP_PREFIX, OP_REGION_OP], nameString(path), [space], integer(offset), integer(length));
}

/** Field access types and update rules (FieldFlags bits 3:0 and 6:5). */
export const FieldAccess = { AnyAcc: 0, ByteAcc: 1, WordAcc: 2, DWordAcc: 3 } as const;
export const FieldUpdate = { Preserve: 0, WriteAsOnes: 1, WriteAsZeros: 2 } as const;

/** One unit of a field list: a named field of `bits` bits, or `bits` reserved bits (no name). */
export interface FieldUnit {
  name?: string;
  bits: number;
}

export function field(regionPath: string, access: number, lock: boolean, update: number, units: FieldUnit[]): Aml {
  const flags = (access & 0x0f) | (lock ? 0x10 : 0) | ((update & 3) << 5);
  const list = units.map((u) => {
    if (!Number.isInteger(u.bits) || u.bits <= 0) throw new RangeError(`field unit of ${u.bits} bits`);
    return u.name ? concat(nameSeg(u.name), pkgLengthOfValue(u.bits)) : concat([0x00], pkgLengthOfValue(u.bits));
  });
  return withPkgLength([EXT_OP_PREFIX, FIELD_OP], nameString(regionPath), [flags], ...list);
}

/** A PkgLength used as a plain number (field widths): the encoded value is `value` itself. */
function pkgLengthOfValue(value: number): number[] {
  if (value <= 0x3f) return [value];
  for (let extra = 1; extra <= 3; extra++) {
    if (value < 1 << (4 + 8 * extra)) {
      const out = [(extra << 6) | (value & 0x0f)];
      for (let i = 0; i < extra; i++) out.push((value >>> (4 + 8 * i)) & 0xff);
      return out;
    }
  }
  throw new RangeError(`field width ${value} is too large`);
}

// ---- Data objects ----

/** Buffer(n) { bytes }: the size is the byte count. */
export function buffer(bytes: Uint8Array | readonly number[]): Aml {
  return withPkgLength([BUFFER_OP], integer(bytes.length), bytes);
}

/** Package() { elements }: each element a data term or a name reference. */
export function packageOf(...elements: Aml[]): Aml {
  if (elements.length > 255) throw new RangeError('a Package holds at most 255 elements (VarPackage is not needed here)');
  return withPkgLength([PACKAGE_OP], [elements.length], ...elements);
}

// ---- Statements and expressions ----

export function returnOp(value: Aml): Aml {
  return concat([RETURN_OP], value);
}

export function store(source: Aml, target: Aml): Aml {
  return concat([STORE_OP], source, target);
}

/** And(a, b, target): the target is Zero (none) unless given. */
export function and(a: Aml, b: Aml, target: Aml = ZERO): Aml {
  return concat([AND_OP], a, b, target);
}

export function or(a: Aml, b: Aml, target: Aml = ZERO): Aml {
  return concat([OR_OP], a, b, target);
}

export function lEqual(a: Aml, b: Aml): Aml {
  return concat([LEQUAL_OP], a, b);
}

export function lNot(a: Aml): Aml {
  return concat([LNOT_OP], a);
}

export function ifOp(predicate: Aml, ...terms: Aml[]): Aml {
  return withPkgLength([IF_OP], predicate, ...terms);
}

export function elseOp(...terms: Aml[]): Aml {
  return withPkgLength([ELSE_OP], ...terms);
}

/** CreateDWordField(source, byteIndex, name). */
export function createDWordField(source: Aml, byteIndex: Aml, fieldName: string): Aml {
  return concat([CREATE_DWORD_FIELD_OP], source, byteIndex, nameString(fieldName));
}
