/** The architectural state a case leaves behind, as both runners report it. */
export interface FpuState {
  control: number;
  /** Status word including TOP. */
  status: number;
  /** Full tag word (2 bits per physical register). */
  tag: number;
  /** Physical registers R0-R7 as numbers (the 80-bit values rounded to double). */
  values: number[];
  /** Physical registers R0-R7: the 64-bit significand (MMX view), as bigint. */
  mantissas: bigint[];
  /** Physical registers R0-R7: sign and exponent (the top 16 bits of the 80-bit value). */
  exponents: number[];
}

export interface CpuResult {
  /** EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI. */
  regs: number[];
  eflags: number;
  /** EIP of the faulting instruction (every case ends in a fault: HLT at the end is #GP(0)). */
  eip: number;
  vector: number;
  /** Error code for vectors that push one, else -1. */
  errorCode: number;
  /** CR2, meaningful for #PF. */
  cr2: number;
  fpu?: FpuState;
  /** Bytes of the data pages that changed: offset from DATA -> new value. */
  changes: Map<number, number>;
  /** Set when the run did not end in an exception as expected. */
  problem?: string;
}

/** Vectors that push an error code. */
export function hasErrorCode(vector: number): boolean {
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17;
}

/** An 80-bit extended-precision value (little-endian bytes) as the nearest double. */
export function extendedToNumber(b: Uint8Array, at: number): number {
  let mant = 0n;
  for (let i = 7; i >= 0; i--) mant = (mant << 8n) | BigInt(b[at + i]);
  const se = b[at + 8] | (b[at + 9] << 8);
  const sign = se & 0x8000 ? -1 : 1;
  const exp = se & 0x7fff;
  if (exp === 0x7fff) return (mant & 0x7fff_ffff_ffff_ffffn) === 0n ? sign * Infinity : NaN;
  if (mant === 0n) return sign * 0;
  // value = mant * 2^(exp - 16383 - 63); Number() of a 64-bit integer rounds to nearest.
  return sign * Number(mant) * 2 ** (Math.max(exp, 1) - 16383 - 63);
}

/** Sign and exponent of an 80-bit value (little-endian bytes). */
export function exponentOf(b: Uint8Array, at: number): number {
  return b[at + 8] | (b[at + 9] << 8);
}

export function mantissaOf(b: Uint8Array, at: number): bigint {
  let mant = 0n;
  for (let i = 7; i >= 0; i--) mant = (mant << 8n) | BigInt(b[at + i]);
  return mant;
}
