import { describe, expect, it } from 'vitest';
import { Hash64, hashBytes, formatFingerprint, parseFingerprint, fingerprintDifferences } from '../../src/machine/fingerprint.ts';

describe('Hash64', () => {
  const data = new Uint8Array(1000).map((_, i) => (i * 37) & 0xff);
  it('gives the same hash however the bytes are split', () => {
    const whole = hashBytes(data);
    const parts = new Hash64();
    parts.update(data.subarray(0, 3)).update(data.subarray(3, 501));
    for (const b of data.subarray(501)) parts.updateByte(b);
    expect(parts.hex()).toBe(whole);
    expect(whole).toMatch(/^[0-9a-f]{16}$/);
  });
  it('tells apart one changed byte, a different length and trailing zeros', () => {
    const other = data.slice();
    other[500] ^= 1;
    const seen = new Set([hashBytes(data), hashBytes(other), hashBytes(data.subarray(0, 999)), hashBytes(new Uint8Array([...data, 0]))]);
    expect(seen.size).toBe(4);
  });
  it('carries its state across save and load (a restored run goes on hashing)', () => {
    const a = new Hash64().update(data.subarray(0, 333));
    const b = new Hash64();
    b.loadState(a.saveState());
    expect(b.update(data.subarray(333)).hex()).toBe(hashBytes(data));
    expect(() => b.loadState([1, 2])).toThrow(/malformed/);
  });
});

describe('fingerprint lines', () => {
  const f = { insns: 123456789012n, serial: '0123456789abcdef', screen: 'fedcba9876543210', ram: '00112233445566ff' };
  it('formats exactly the runner line and parses it back', () => {
    const line = formatFingerprint(f);
    expect(line).toBe('fingerprint: insns=123456789012 serial=0123456789abcdef screen=fedcba9876543210 ram=00112233445566ff');
    expect(parseFingerprint(line)).toEqual(f);
  });
  it('compares only the fields given, and rejects malformed fields', () => {
    expect(fingerprintDifferences({ insns: 123456789012n }, f)).toEqual([]);
    expect(fingerprintDifferences({ ram: '0000000000000000' }, f)).toEqual(['ram: expected 0000000000000000, got 00112233445566ff']);
    expect(() => parseFingerprint('insns=12x')).toThrow(/decimal/);
    expect(() => parseFingerprint('ram=abc')).toThrow(/16 hex digits/);
    expect(() => parseFingerprint('colour=blue')).toThrow(/cannot read/);
  });
});
