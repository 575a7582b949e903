import { describe, expect, it } from 'vitest';
import {
  BROADCAST_MAC, buildEthernet, crc32, formatMac, isBroadcast, isMulticast, macEquals, macKey, multicastHashIndex, parseEthernet, parseMac,
} from '../../src/net/ethernet.ts';

function reverse32(v: number): number {
  let r = 0;
  for (let i = 0; i < 32; i++) r = (r << 1) | ((v >>> i) & 1);
  return r >>> 0;
}

describe('Ethernet helpers', () => {
  it('builds frames padded to 60 bytes and parses them back', () => {
    const dst = parseMac('00:16:3e:7e:f3:15')!;
    const src = parseMac('52-55-0a-00-02-02')!;
    const frame = buildEthernet(dst, src, 0x0806, new Uint8Array([1, 2, 3]));
    expect(frame.length).toBe(60);
    const p = parseEthernet(frame)!;
    expect(formatMac(p.destination)).toBe('00:16:3e:7e:f3:15');
    expect(formatMac(p.source)).toBe('52:55:0a:00:02:02');
    expect(p.etherType).toBe(0x0806);
    expect(Array.from(p.payload.subarray(0, 4))).toEqual([1, 2, 3, 0]);
    expect(parseEthernet(new Uint8Array(13))).toBeUndefined();
    expect(buildEthernet(dst, src, 0x0800, new Uint8Array(1500)).length).toBe(1514);
  });

  it('parses MAC addresses strictly and classifies them', () => {
    expect(parseMac('00:16:3e:7e:f3')).toBeUndefined();
    expect(parseMac('00:16:3e:7e:f3:1g')).toBeUndefined();
    expect(isBroadcast(BROADCAST_MAC)).toBe(true);
    expect(isMulticast(parseMac('01:00:5e:00:00:01')!)).toBe(true);
    expect(isMulticast(parseMac('00:16:3e:00:00:01')!)).toBe(false);
    expect(macEquals(parseMac('aa:bb:cc:dd:ee:ff')!, parseMac('AA:BB:CC:DD:EE:FF')!)).toBe(true);
    expect(macKey(parseMac('ff:ff:ff:ff:ff:ff')!)).toBe(2 ** 48 - 1);
    expect(macKey(parseMac('00:00:00:00:01:00')!)).toBe(256);
  });

  it('computes the FCS CRC-32 (check value of "123456789")', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('derives the multicast hash from the unreflected CRC register, as ether_crc() >> 26', () => {
    for (const text of ['01:00:5e:00:00:01', '01:00:5e:7f:ff:fa', '33:33:00:00:00:01', 'ff:ff:ff:ff:ff:ff', '01:80:c2:00:00:00']) {
      const mac = parseMac(text)!;
      // The MSB-first register without final inversion is the bit reverse of the reflected one.
      const expected = reverse32(~crc32(mac) >>> 0) >>> 26;
      expect(multicastHashIndex(mac)).toBe(expected);
    }
    expect(new Set(['01:00:5e:00:00:01', '01:00:5e:00:00:02', '01:00:5e:00:00:fb'].map((m) => multicastHashIndex(parseMac(m)!))).size).toBe(3);
  });
});
