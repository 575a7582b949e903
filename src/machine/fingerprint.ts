/**
 * A run's fingerprint: instructions retired and hashes of the serial output (COM1), the rendered
 * screen and guest RAM. Two runs of the same deterministic boot give equal fingerprints, in Node
 * and in the browser (the hash is plain integer arithmetic, no host crypto).
 */
import type { Machine } from './machine.ts';

export interface Fingerprint {
  insns: bigint;
  serial: string;
  screen: string;
  ram: string;
}

/**
 * A streaming 64-bit hash (two independent 32-bit multiply-xorshift lanes over the bytes, with
 * the length mixed in at the end). Not cryptographic: it tells runs apart, it does not resist
 * someone crafting collisions.
 */
export class Hash64 {
  private a = 0x811c9dc5;
  private b = 0x01000193;
  private length = 0;
  /** Up to three bytes waiting to complete a 32-bit word. */
  private pending = 0;
  private pendingBytes = 0;

  update(bytes: Uint8Array): this {
    let i = 0;
    const n = bytes.length;
    this.length += n;
    while (this.pendingBytes !== 0 && i < n) this.pushByte(bytes[i++]);
    // Whole words straight from the bytes (little-endian), four at a time.
    const words = (n - i) >> 2;
    for (let w = 0; w < words; w++, i += 4) {
      this.mix(bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    }
    while (i < n) this.pushByte(bytes[i++]);
    return this;
  }

  updateByte(byte: number): this {
    this.length++;
    this.pushByte(byte & 0xff);
    return this;
  }

  /** The hasher's state as numbers (snapshots carry the serial hash across a restore). */
  saveState(): number[] {
    return [this.a, this.b, this.length, this.pending, this.pendingBytes];
  }

  loadState(state: readonly number[]): void {
    if (state.length !== 5 || !state.every((v) => Number.isSafeInteger(v))) throw new Error('hash state is malformed');
    [this.a, this.b, this.length, this.pending, this.pendingBytes] = state;
  }

  /** The hash as 16 hex digits; the hasher can go on taking bytes afterwards. */
  hex(): string {
    let a = this.a;
    let b = this.b;
    if (this.pendingBytes) {
      a = Math.imul(a ^ this.pending, 0x9e3779b1);
      b = Math.imul(b ^ this.pending, 0x85ebca77);
    }
    a = finalize(a ^ this.length);
    b = finalize(b ^ Math.floor(this.length / 2 ** 32) ^ a);
    return (b >>> 0).toString(16).padStart(8, '0') + (a >>> 0).toString(16).padStart(8, '0');
  }

  private pushByte(byte: number): void {
    this.pending |= byte << (8 * this.pendingBytes);
    if (++this.pendingBytes === 4) {
      this.mix(this.pending);
      this.pending = 0;
      this.pendingBytes = 0;
    }
  }

  private mix(word: number): void {
    this.a = Math.imul((this.a ^ word) >>> 0, 0x9e3779b1);
    this.a = (this.a << 13) | (this.a >>> 19);
    this.b = Math.imul((this.b + word) | 0, 0x85ebca77);
    this.b ^= this.b >>> 15;
  }
}

function finalize(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function hashBytes(bytes: Uint8Array): string {
  return new Hash64().update(bytes).hex();
}

/** Hash of the screen as the user sees it: its size and RGBA pixels. */
export function screenHash(machine: Machine): string {
  const frame = machine.screenshot();
  const size = new Uint8Array(new Uint32Array([frame.width, frame.height]).buffer);
  const rgba = new Uint8Array(frame.rgba.buffer, frame.rgba.byteOffset, frame.rgba.byteLength);
  return new Hash64().update(size).update(rgba).hex();
}

/** The fingerprint of `machine` now; `serialHash` is the hash of COM1's output so far. */
export function takeFingerprint(machine: Machine, serialHash: string): Fingerprint {
  return {
    insns: machine.cpu.totalInstructions,
    serial: serialHash,
    screen: screenHash(machine),
    ram: hashBytes(machine.cpu.ram()),
  };
}

/** The runner's line: `fingerprint: insns=<decimal> serial=<hex> screen=<hex> ram=<hex>`. */
export function formatFingerprint(f: Fingerprint): string {
  return `fingerprint: insns=${f.insns} serial=${f.serial} screen=${f.screen} ram=${f.ram}`;
}

/** Parse a fingerprint line (or its `insns=... ram=...` part); fields left out match anything. */
export function parseFingerprint(text: string): Partial<Fingerprint> {
  const body = text.replace(/^\s*fingerprint:\s*/, '').trim();
  const out: Partial<Fingerprint> = {};
  for (const part of body.split(/\s+/)) {
    const m = /^(insns|serial|screen|ram)=(\S+)$/.exec(part);
    if (!m) throw new Error(`fingerprint: cannot read '${part}': expected insns=<decimal>, serial=, screen= or ram=<hex>`);
    if (m[1] === 'insns') {
      if (!/^\d+$/.test(m[2])) throw new Error(`fingerprint: insns must be a decimal number, got '${m[2]}'`);
      out.insns = BigInt(m[2]);
    } else {
      if (!/^[0-9a-f]{16}$/.test(m[2])) throw new Error(`fingerprint: ${m[1]} must be 16 hex digits, got '${m[2]}'`);
      out[m[1] as 'serial' | 'screen' | 'ram'] = m[2];
    }
  }
  return out;
}

/** The fields of `expected` that differ from `actual`, as 'field: expected X, got Y' lines. */
export function fingerprintDifferences(expected: Partial<Fingerprint>, actual: Fingerprint): string[] {
  const out: string[] = [];
  for (const k of ['insns', 'serial', 'screen', 'ram'] as const) {
    const want = expected[k];
    if (want !== undefined && want !== actual[k]) out.push(`${k}: expected ${want}, got ${actual[k]}`);
  }
  return out;
}
