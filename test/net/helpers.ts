/** A guest-side host for gateway tests: builds client frames and decodes what comes back. */
import { BROADCAST_MAC, buildEthernet, ETHERTYPE_IPV4, parseEthernet } from '../../src/net/ethernet.ts';
import { buildIpv4, IP_PROTOCOL_UDP, parseIpv4, type Ipv4Packet } from '../../src/net/ipv4.ts';
import type { NetworkPort } from '../../src/net/network-port.ts';
import { buildUdp, parseUdp, type UdpDatagram } from '../../src/net/udp.ts';
import { Gateway, type GatewayOptions } from '../../src/net/gateway.ts';
import { VirtualSwitch } from '../../src/net/virtual-switch.ts';

export const CLIENT_MAC = new Uint8Array([0x00, 0x16, 0x3e, 0x01, 0x02, 0x03]);

export function udpFrame(o: { source: number; destination: number; sourcePort: number; destinationPort: number; payload: Uint8Array; mac?: Uint8Array; to?: Uint8Array }): Uint8Array {
  const udp = buildUdp(o.source, o.destination, { sourcePort: o.sourcePort, destinationPort: o.destinationPort, payload: o.payload });
  const ip = buildIpv4({ source: o.source, destination: o.destination, protocol: IP_PROTOCOL_UDP, payload: udp });
  return buildEthernet(o.to ?? BROADCAST_MAC, o.mac ?? CLIENT_MAC, ETHERTYPE_IPV4, ip);
}

export interface Received {
  destination: Uint8Array;
  source: Uint8Array;
  etherType: number;
  ip?: Ipv4Packet;
  udp?: UdpDatagram;
}

export function decode(frame: Uint8Array): Received {
  const eth = parseEthernet(frame)!;
  const out: Received = { destination: eth.destination.slice(), source: eth.source.slice(), etherType: eth.etherType };
  if (eth.etherType === ETHERTYPE_IPV4) {
    out.ip = parseIpv4(eth.payload);
    if (out.ip && out.ip.protocol === IP_PROTOCOL_UDP) out.udp = parseUdp(out.ip.payload, out.ip.source, out.ip.destination);
  }
  return out;
}

/** A switch with the gateway on one port and a test client on another that records what it gets. */
export function gatewayNetwork(options: Omit<GatewayOptions, 'port'> = {}) {
  const sw = new VirtualSwitch('xenbr0');
  const gateway = new Gateway({ ...options, port: sw.connect('gateway') });
  const client: NetworkPort = sw.connect('client');
  const received: Uint8Array[] = [];
  client.onReceive = (f) => received.push(f.slice());
  return { sw, gateway, client, received, take: () => received.splice(0).map(decode) };
}
