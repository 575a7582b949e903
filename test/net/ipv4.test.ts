import { describe, expect, it } from 'vitest';
import { buildIpv4, formatIpv4Address, internetChecksum, parseIpv4, parseIpv4Address } from '../../src/net/ipv4.ts';

describe('IPv4', () => {
  it('builds a header whose checksum verifies, and parses it back without the Ethernet padding', () => {
    const packet = buildIpv4({ source: parseIpv4Address('10.0.2.15')!, destination: parseIpv4Address('10.0.2.2')!, protocol: 17, payload: new Uint8Array([9, 8, 7]), identification: 0x1234 });
    expect(internetChecksum(packet.subarray(0, 20))).toBe(0);
    const padded = new Uint8Array(46);
    padded.set(packet);
    const p = parseIpv4(padded)!;
    expect(formatIpv4Address(p.source)).toBe('10.0.2.15');
    expect(formatIpv4Address(p.destination)).toBe('10.0.2.2');
    expect(Array.from(p.payload)).toEqual([9, 8, 7]);
    expect(p.identification).toBe(0x1234);
    expect(p.fragment).toBe(false);
  });

  it('rejects bad versions, lengths and checksums, and flags fragments', () => {
    const good = buildIpv4({ source: 1, destination: 2, protocol: 1, payload: new Uint8Array(8) });
    const bad = (mutate: (p: Uint8Array) => void) => {
      const p = good.slice();
      mutate(p);
      return parseIpv4(p);
    };
    expect(bad((p) => (p[0] = 0x65))).toBeUndefined();
    expect(bad((p) => (p[3] = 200))).toBeUndefined();
    expect(bad((p) => (p[15] ^= 1))).toBeUndefined();
    expect(parseIpv4(good.subarray(0, 19))).toBeUndefined();
    const fragment = good.slice();
    fragment[6] = 0x20; // more fragments; recompute the header checksum
    fragment[10] = 0;
    fragment[11] = 0;
    const fixed = internetChecksum(fragment.subarray(0, 20));
    fragment[10] = fixed >> 8;
    fragment[11] = fixed & 0xff;
    expect(parseIpv4(fragment)?.fragment).toBe(true);
  });

  it('parses and formats dotted addresses strictly', () => {
    expect(parseIpv4Address('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4Address('10.0.2')).toBeUndefined();
    expect(parseIpv4Address('10.0.2.256')).toBeUndefined();
    expect(parseIpv4Address('a.b.c.d')).toBeUndefined();
  });
});
