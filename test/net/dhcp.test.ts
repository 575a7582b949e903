import { describe, expect, it } from 'vitest';
import {
  buildDhcp, DhcpServer, DHCP_ACK, DHCP_DECLINE, DHCP_DISCOVER, DHCP_INFORM, DHCP_NAK, DHCP_OFFER, DHCP_RELEASE, DHCP_REQUEST,
  OPTION_BOOT_FILE, OPTION_DNS, OPTION_LEASE_TIME, OPTION_MESSAGE_TYPE, OPTION_REQUESTED_ADDRESS, OPTION_ROUTER, OPTION_SERVER_ID,
  OPTION_SUBNET_MASK, parseDhcp,
} from '../../src/net/dhcp.ts';
import { formatIpv4Address, parseIpv4Address } from '../../src/net/ipv4.ts';

const ip = (t: string) => parseIpv4Address(t)!;
const be = (a: number) => new Uint8Array([a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff]);
const word = (b: Uint8Array | undefined) => (b ? ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0 : undefined);

function server(poolSize = 4) {
  return new DhcpServer({
    serverAddress: ip('10.0.2.2'), subnetMask: ip('255.255.255.0'), router: ip('10.0.2.2'), dnsServers: [ip('10.0.2.3')],
    poolStart: ip('10.0.2.15'), poolSize, leaseSeconds: 3600, nextServer: ip('10.0.2.2'), bootFile: 'pxelinux.0',
  });
}

function client(mac: number, type: number, options: [number, Uint8Array][] = [], ciaddr = 0) {
  const m = new Map<number, Uint8Array>([[OPTION_MESSAGE_TYPE, new Uint8Array([type])], ...options]);
  return buildDhcp({ op: 1, xid: 0xabcd0000 + mac, secs: 0, flags: 0x8000, ciaddr, yiaddr: 0, siaddr: 0, giaddr: 0, chaddr: new Uint8Array([0, 0x16, 0x3e, 0, 0, mac]), file: '', options: m });
}

describe('DhcpServer', () => {
  it('DISCOVER -> OFFER -> REQUEST -> ACK with mask, router, DNS, lease and PXE boot file', () => {
    const s = server();
    const offer = parseDhcp(s.handle(client(1, DHCP_DISCOVER))!)!;
    expect(offer.op).toBe(2);
    expect(offer.xid).toBe(0xabcd0001);
    expect(offer.options.get(OPTION_MESSAGE_TYPE)![0]).toBe(DHCP_OFFER);
    expect(formatIpv4Address(offer.yiaddr)).toBe('10.0.2.15');
    expect(word(offer.options.get(OPTION_SERVER_ID))).toBe(ip('10.0.2.2'));
    const ack = parseDhcp(s.handle(client(1, DHCP_REQUEST, [[OPTION_REQUESTED_ADDRESS, be(offer.yiaddr)], [OPTION_SERVER_ID, be(ip('10.0.2.2'))]]))!)!;
    expect(ack.options.get(OPTION_MESSAGE_TYPE)![0]).toBe(DHCP_ACK);
    expect(ack.yiaddr).toBe(offer.yiaddr);
    expect(word(ack.options.get(OPTION_SUBNET_MASK))).toBe(ip('255.255.255.0'));
    expect(word(ack.options.get(OPTION_ROUTER))).toBe(ip('10.0.2.2'));
    expect(word(ack.options.get(OPTION_DNS))).toBe(ip('10.0.2.3'));
    expect(word(ack.options.get(OPTION_LEASE_TIME))).toBe(3600);
    expect(ack.siaddr).toBe(ip('10.0.2.2'));
    expect(ack.file).toBe('pxelinux.0');
    expect(String.fromCharCode(...ack.options.get(OPTION_BOOT_FILE)!)).toBe('pxelinux.0');
    expect(s.leaseOf(new Uint8Array([0, 0x16, 0x3e, 0, 0, 1]))).toBe(ip('10.0.2.15'));
  });

  it('gives each client its own stable address and honours a requested free one', () => {
    const s = server();
    const a = parseDhcp(s.handle(client(1, DHCP_DISCOVER))!)!.yiaddr;
    const b = parseDhcp(s.handle(client(2, DHCP_DISCOVER, [[OPTION_REQUESTED_ADDRESS, be(ip('10.0.2.18'))]]))!)!.yiaddr;
    const again = parseDhcp(s.handle(client(1, DHCP_DISCOVER))!)!.yiaddr;
    expect(formatIpv4Address(b)).toBe('10.0.2.18');
    expect(again).toBe(a);
  });

  it('NAKs a request for an address that is not the client\'s, ignores requests for other servers', () => {
    const s = server();
    s.handle(client(1, DHCP_DISCOVER));
    s.handle(client(2, DHCP_DISCOVER));
    const nak = parseDhcp(s.handle(client(2, DHCP_REQUEST, [[OPTION_REQUESTED_ADDRESS, be(ip('10.0.2.15'))]]))!)!;
    expect(nak.options.get(OPTION_MESSAGE_TYPE)![0]).toBe(DHCP_NAK);
    expect(nak.yiaddr).toBe(0);
    const outside = parseDhcp(s.handle(client(3, DHCP_REQUEST, [[OPTION_REQUESTED_ADDRESS, be(ip('192.168.1.5'))]]))!)!;
    expect(outside.options.get(OPTION_MESSAGE_TYPE)![0]).toBe(DHCP_NAK);
    expect(s.handle(client(1, DHCP_REQUEST, [[OPTION_REQUESTED_ADDRESS, be(ip('10.0.2.15'))], [OPTION_SERVER_ID, be(ip('10.0.2.9'))]]))).toBeUndefined();
    expect(s.stats.naks).toBe(2);
  });

  it('stops offering when the pool is used up, and reuses released addresses', () => {
    const s = server(2);
    s.handle(client(1, DHCP_DISCOVER));
    s.handle(client(2, DHCP_DISCOVER));
    expect(s.handle(client(3, DHCP_DISCOVER))).toBeUndefined();
    expect(s.stats.poolExhausted).toBe(1);
    s.handle(client(1, DHCP_RELEASE, [], ip('10.0.2.15')));
    expect(parseDhcp(s.handle(client(3, DHCP_DISCOVER))!)!.yiaddr).toBe(ip('10.0.2.15'));
  });

  it('never hands out a declined address again', () => {
    const s = server(2);
    s.handle(client(1, DHCP_DISCOVER));
    s.handle(client(1, DHCP_DECLINE, [[OPTION_REQUESTED_ADDRESS, be(ip('10.0.2.15'))]]));
    expect(parseDhcp(s.handle(client(1, DHCP_DISCOVER))!)!.yiaddr).toBe(ip('10.0.2.16'));
    expect(s.handle(client(2, DHCP_DISCOVER))).toBeUndefined();
  });

  it('answers INFORM without an address or lease, and counts malformed messages', () => {
    const s = server();
    const ack = parseDhcp(s.handle(client(5, DHCP_INFORM, [], ip('10.0.2.77')))!)!;
    expect(ack.options.get(OPTION_MESSAGE_TYPE)![0]).toBe(DHCP_ACK);
    expect(ack.yiaddr).toBe(0);
    expect(ack.options.has(OPTION_LEASE_TIME)).toBe(false);
    expect(s.handle(new Uint8Array(100))).toBeUndefined();
    const noType = client(6, DHCP_DISCOVER);
    noType[240] = 0xff; // END before the message-type option
    expect(s.handle(noType)).toBeUndefined();
    const truncated = client(6, DHCP_DISCOVER).subarray(0, 242);
    expect(s.handle(truncated)).toBeUndefined();
    expect(s.stats.malformed).toBe(3);
  });
});
