import { describe, expect, it } from 'vitest';
import { byteSum, fixChecksum } from '../../../src/firmware/acpi/checksum.ts';

describe('checksums', () => {
  it('sums bytes modulo 256 over a range', () => {
    expect(byteSum(Uint8Array.of(0xff, 0x02))).toBe(0x01);
    expect(byteSum(Uint8Array.of(1, 2, 3, 4), 1, 2)).toBe(5);
  });
  it('fixes a checksum byte so the range sums to zero, whatever it held', () => {
    const data = Uint8Array.of(10, 0x77, 20, 30);
    fixChecksum(data, 1);
    expect(byteSum(data)).toBe(0);
    const part = Uint8Array.of(9, 9, 0x55, 1, 2);
    fixChecksum(part, 2, 2, 3);
    expect(byteSum(part, 2, 3)).toBe(0);
    expect(part[0]).toBe(9);
  });
});
