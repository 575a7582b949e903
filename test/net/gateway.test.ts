import { describe, expect, it } from 'vitest';
import { ARP_REPLY, ARP_REQUEST, buildArp, parseArp } from '../../src/net/arp.ts';
import {
  buildDhcp, DHCP_ACK, DHCP_CLIENT_PORT, DHCP_DISCOVER, DHCP_OFFER, DHCP_REQUEST, DHCP_SERVER_PORT, OPTION_DNS, OPTION_MESSAGE_TYPE,
  OPTION_REQUESTED_ADDRESS, OPTION_ROUTER, OPTION_SERVER_ID, parseDhcp,
} from '../../src/net/dhcp.ts';
import { buildDnsQuery, parseDnsResponse } from '../../src/net/dns.ts';
import { BROADCAST_MAC, buildEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, parseEthernet } from '../../src/net/ethernet.ts';
import { buildIcmp, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, parseIcmp } from '../../src/net/icmp.ts';
import { buildIpv4, IP_PROTOCOL_ICMP, parseIpv4, parseIpv4Address, formatIpv4Address } from '../../src/net/ipv4.ts';
import { builtInGateway, Gateway } from '../../src/net/gateway.ts';
import { VirtualSwitch } from '../../src/net/virtual-switch.ts';
import { CLIENT_MAC, gatewayNetwork, udpFrame } from './helpers.ts';

const ip = (t: string) => parseIpv4Address(t)!;
const be = (a: number) => new Uint8Array([a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff]);

function dhcpFrame(type: number, xid: number, extra: [number, Uint8Array][] = []) {
  const payload = buildDhcp({
    op: 1, xid, secs: 0, flags: 0, ciaddr: 0, yiaddr: 0, siaddr: 0, giaddr: 0, chaddr: CLIENT_MAC, file: '',
    options: new Map([[OPTION_MESSAGE_TYPE, new Uint8Array([type])], ...extra]),
  });
  return udpFrame({ source: 0, destination: 0xffffffff, sourcePort: DHCP_CLIENT_PORT, destinationPort: DHCP_SERVER_PORT, payload });
}

describe('Gateway', () => {
  it('leases an address: DISCOVER -> OFFER -> REQUEST -> ACK as broadcast frames on the switch', () => {
    const net = gatewayNetwork({ dhcp: { domainName: 'webhvm.test' } });
    net.client.send(dhcpFrame(DHCP_DISCOVER, 0x11));
    const [offerFrame] = net.take();
    expect(offerFrame.destination).toEqual(BROADCAST_MAC);
    expect(offerFrame.source).toEqual(net.gateway.mac);
    expect(offerFrame.ip!.source).toBe(ip('10.0.2.2'));
    expect(offerFrame.udp!.destinationPort).toBe(DHCP_CLIENT_PORT);
    const offer = parseDhcp(offerFrame.udp!.payload)!;
    expect(offer.options.get(OPTION_MESSAGE_TYPE)![0]).toBe(DHCP_OFFER);
    expect(formatIpv4Address(offer.yiaddr)).toBe('10.0.2.15');
    net.client.send(dhcpFrame(DHCP_REQUEST, 0x12, [[OPTION_REQUESTED_ADDRESS, be(offer.yiaddr)], [OPTION_SERVER_ID, be(ip('10.0.2.2'))]]));
    const ack = parseDhcp(net.take()[0].udp!.payload)!;
    expect(ack.xid).toBe(0x12);
    expect(ack.options.get(OPTION_MESSAGE_TYPE)![0]).toBe(DHCP_ACK);
    expect(ack.yiaddr).toBe(offer.yiaddr);
    expect(Array.from(ack.options.get(OPTION_ROUTER)!)).toEqual([10, 0, 2, 2]);
    expect(Array.from(ack.options.get(OPTION_DNS)!)).toEqual([10, 0, 2, 2]);
  });

  it('answers ARP for its own address only', () => {
    const net = gatewayNetwork();
    const ask = (target: string) =>
      net.client.send(buildEthernet(BROADCAST_MAC, CLIENT_MAC, ETHERTYPE_ARP, buildArp({ operation: ARP_REQUEST, senderMac: CLIENT_MAC, senderIp: ip('10.0.2.15'), targetMac: new Uint8Array(6), targetIp: ip(target) })));
    ask('10.0.2.99');
    expect(net.received.length).toBe(0);
    ask('10.0.2.2');
    const frame = parseEthernet(net.received[0])!;
    expect(frame.destination).toEqual(CLIENT_MAC);
    expect(frame.etherType).toBe(ETHERTYPE_ARP);
    const reply = parseArp(frame.payload)!;
    expect(reply).toMatchObject({ operation: ARP_REPLY, senderIp: ip('10.0.2.2'), targetIp: ip('10.0.2.15') });
    expect(reply.senderMac).toEqual(net.gateway.mac);
  });

  it('replies to ping at its address with the same identifier, sequence and data', () => {
    const net = gatewayNetwork();
    const echo = buildIcmp({ type: ICMP_ECHO_REQUEST, code: 0, body: new Uint8Array([0, 1, 0, 9, ...new TextEncoder().encode('abcdefgh')]) });
    const packet = buildIpv4({ source: ip('10.0.2.15'), destination: ip('10.0.2.2'), protocol: IP_PROTOCOL_ICMP, payload: echo });
    net.client.send(buildEthernet(net.gateway.mac, CLIENT_MAC, ETHERTYPE_IPV4, packet));
    const [frame] = net.received;
    const reply = parseIpv4(parseEthernet(frame)!.payload)!;
    expect(reply.destination).toBe(ip('10.0.2.15'));
    const icmp = parseIcmp(reply.payload)!;
    expect(icmp.type).toBe(ICMP_ECHO_REPLY);
    expect(icmp.body).toEqual(parseIcmp(echo)!.body);
    // Ping to another address is not the gateway's to answer.
    net.client.send(buildEthernet(net.gateway.mac, CLIENT_MAC, ETHERTYPE_IPV4, buildIpv4({ source: ip('10.0.2.15'), destination: ip('8.8.8.8'), protocol: IP_PROTOCOL_ICMP, payload: echo })));
    expect(net.received.length).toBe(1);
    expect(net.gateway.stats.echoReplies).toBe(1);
  });

  it('answers DNS from its host table to the asking client', () => {
    const net = gatewayNetwork({ dns: { hosts: { 'files.webhvm': '10.0.2.4' } } });
    net.client.send(udpFrame({ source: ip('10.0.2.15'), destination: ip('10.0.2.2'), sourcePort: 5353, destinationPort: 53, payload: buildDnsQuery(77, 'files.webhvm'), to: net.gateway.mac }));
    const [reply] = net.take();
    expect(reply.destination).toEqual(CLIENT_MAC);
    expect(reply.udp!.destinationPort).toBe(5353);
    expect(parseDnsResponse(reply.udp!.payload)).toEqual({ id: 77, rcode: 0, addresses: [ip('10.0.2.4')] });
  });

  it('counts what it cannot use instead of failing', () => {
    const net = gatewayNetwork();
    const packet = buildIpv4({ source: ip('10.0.2.15'), destination: ip('10.0.2.2'), protocol: IP_PROTOCOL_ICMP, payload: new Uint8Array(8) });
    const corrupt = packet.slice();
    corrupt[12] ^= 1;
    net.client.send(buildEthernet(net.gateway.mac, CLIENT_MAC, ETHERTYPE_IPV4, corrupt));
    const fragment = buildIpv4({ source: ip('10.0.2.15'), destination: ip('10.0.2.2'), protocol: 17, payload: new Uint8Array(8) });
    fragment[6] = 0x20;
    fragment[10] = fragment[11] = 0;
    net.client.send(buildEthernet(net.gateway.mac, CLIENT_MAC, ETHERTYPE_IPV4, fixChecksum(fragment)));
    net.client.send(udpFrame({ source: ip('10.0.2.15'), destination: ip('10.0.2.2'), sourcePort: 1, destinationPort: 9999, payload: new Uint8Array(4), to: net.gateway.mac }));
    net.client.send(buildEthernet(net.gateway.mac, CLIENT_MAC, 0x86dd, new Uint8Array(40)));
    expect(net.received.length).toBe(0);
    expect(net.gateway.stats).toMatchObject({ malformed: 1, fragments: 1, ignored: 2 });
  });

  it('refuses configurations that cannot work', () => {
    const port = new VirtualSwitch('x').connect('g');
    expect(() => new Gateway({ port, address: '10.0.2' })).toThrow(/not a dotted IPv4 address/);
    expect(() => new Gateway({ port, dhcp: { poolStart: '192.168.0.10' } })).toThrow(/inside the gateway subnet/);
    expect(() => new Gateway({ port, prefixLength: 31 })).toThrow(/prefix length/);
  });
});

function fixChecksum(packet: Uint8Array): Uint8Array {
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (packet[i] << 8) | packet[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  packet[10] = c >> 8;
  packet[11] = c & 0xff;
  return packet;
}

describe('builtInGateway', () => {
  it('makes one gateway per switch, configured by the first caller, however many machines plug in', () => {
    const sw = new VirtualSwitch('xenbr0');
    const first = builtInGateway(sw, { dhcp: { bootFile: 'boot.ipxe' } });
    const again = builtInGateway(sw);
    expect(again).toBe(first);
    expect(first.dhcp!.config.bootFile).toBe('boot.ipxe');
    expect(sw.portNames()).toEqual(['gateway']);
    const other = builtInGateway(new VirtualSwitch('xenbr1'));
    expect(other).not.toBe(first);
    expect(other.dhcp!.config.bootFile).toBeUndefined();
  });
});
