import { describe, expect, it } from 'vitest';
import { ARP_REQUEST, buildArp, parseArp } from '../../src/net/arp.ts';

describe('ARP', () => {
  it('round-trips an Ethernet/IPv4 packet and refuses other hardware types', () => {
    const p = { operation: ARP_REQUEST, senderMac: new Uint8Array([1, 2, 3, 4, 5, 6]), senderIp: 0x0a00020f, targetMac: new Uint8Array(6), targetIp: 0x0a000202 };
    const bytes = buildArp(p);
    expect(bytes.length).toBe(28);
    expect(parseArp(bytes)).toEqual(p);
    bytes[1] = 6; // IEEE 802 networks
    expect(parseArp(bytes)).toBeUndefined();
    expect(parseArp(new Uint8Array(27))).toBeUndefined();
  });
});
