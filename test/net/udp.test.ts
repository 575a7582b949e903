import { describe, expect, it } from 'vitest';
import { buildUdp, parseUdp } from '../../src/net/udp.ts';

describe('UDP', () => {
  it('round-trips a datagram with a pseudo-header checksum and refuses a corrupted one', () => {
    const d = buildUdp(0x0a00020f, 0x0a000202, { sourcePort: 68, destinationPort: 67, payload: new Uint8Array([1, 2, 3, 4, 5]) });
    expect(d.length).toBe(13);
    const p = parseUdp(d, 0x0a00020f, 0x0a000202)!;
    expect(p).toMatchObject({ sourcePort: 68, destinationPort: 67 });
    expect(Array.from(p.payload)).toEqual([1, 2, 3, 4, 5]);
    expect(parseUdp(d, 0x0a00020f, 0x0a000203)).toBeUndefined(); // wrong pseudo-header
    const corrupt = d.slice();
    corrupt[9] ^= 0xff;
    expect(parseUdp(corrupt, 0x0a00020f, 0x0a000202)).toBeUndefined();
  });

  it('accepts a zero checksum and refuses impossible lengths', () => {
    const d = buildUdp(1, 2, { sourcePort: 1, destinationPort: 2, payload: new Uint8Array(4) });
    d[6] = d[7] = 0;
    d[8] = 0x55;
    expect(parseUdp(d, 1, 2)?.payload[0]).toBe(0x55);
    d[5] = 100;
    expect(parseUdp(d, 1, 2)).toBeUndefined();
    expect(parseUdp(new Uint8Array(7), 1, 2)).toBeUndefined();
  });
});
