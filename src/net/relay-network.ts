/**
 * The network on the far side of a relay: a router on the relay's switch that gives guests an
 * address (DHCP), answers ARP and ping for itself, resolves names with the host's resolver, and
 * carries guests' TCP and UDP to the host's network stack in user space (no root, no tap
 * device), as QEMU's user-mode network does. ARP, ICMP echo, DHCP and DNS come from the
 * built-in Gateway, used unchanged on an inner port; this module takes the frames the gateway
 * does not serve (TCP and UDP routed through it) for the NAT.
 *
 * Defaults: router 10.0.3.2/24 (MAC 52:55:0a:00:03:02), leases from 10.0.3.15, DNS at the
 * router. With `hostLoopback`, TCP and UDP to the router's own address reach the host's
 * 127.0.0.1 (QEMU's 10.0.2.2 does the same), so guests can use services the host runs on
 * loopback. Left out: ICMP beyond the router (no raw sockets without root), ICMP errors,
 * inbound connections (port forwarding), IP fragments (dropped and counted).
 */
import { buildEthernet, ETHERTYPE_IPV4, macEquals, parseEthernet } from './ethernet.ts';
import { Gateway } from './gateway.ts';
import { buildIpv4, formatIpv4Address, IP_PROTOCOL_TCP, IP_PROTOCOL_UDP, parseIpv4, parseIpv4Address, type Ipv4Packet } from './ipv4.ts';
import type { NetworkPort } from './network-port.ts';
import { relayDns } from './relay-dns.ts';
import type { HostResolver, HostTcpConnector, HostUdpBinder, NatTimers } from './tcp-nat-host.ts';
import { TcpNat } from './tcp-nat.ts';
import { buildTcp, parseTcp } from './tcp-nat-segment.ts';
import { UdpNat } from './udp-nat.ts';
import { buildUdp, parseUdp } from './udp.ts';

export interface RelayNetworkOptions {
  port: NetworkPort;
  connectTcp: HostTcpConnector;
  bindUdp: HostUdpBinder;
  resolve: HostResolver;
  /** The router's dotted address; default 10.0.3.2. */
  address?: string;
  prefixLength?: number;
  mac?: Uint8Array;
  /** First DHCP address and pool size; default the subnet's .15 and 64 addresses. */
  poolStart?: string;
  poolSize?: number;
  /** Guests reach the host's 127.0.0.1 at the router's address. Default false. */
  hostLoopback?: boolean;
  timers?: NatTimers;
}

export interface RelayNetworkStats {
  /** Frames that failed to parse on the way to the NAT (bad checksum, truncated). */
  malformed: number;
  /** Packets the NAT would not carry (fragments, unroutable destinations, unknown guests). */
  dropped: number;
}

export const RELAY_DEFAULT_ADDRESS = '10.0.3.2';
export const RELAY_DEFAULT_MAC = new Uint8Array([0x52, 0x55, 0x0a, 0x00, 0x03, 0x02]);
const HOST_LOOPBACK = 0x7f000001;
const GATEWAY_UDP_SERVICES = new Set([53, 67]);

export class RelayNetwork {
  readonly stats: RelayNetworkStats = { malformed: 0, dropped: 0 };
  readonly gateway: Gateway;
  readonly tcp: TcpNat;
  readonly udp: UdpNat;
  readonly address: number;
  readonly mac: Uint8Array;
  private readonly subnetMask: number;
  private readonly hostLoopback: boolean;
  /** Guest addresses to their hardware addresses, from the frames they send through us. */
  private readonly guests = new Map<number, Uint8Array>();
  private identification = 0;

  constructor(private readonly options: RelayNetworkOptions) {
    this.mac = (options.mac ?? RELAY_DEFAULT_MAC).slice(0, 6);
    const addressText = options.address ?? RELAY_DEFAULT_ADDRESS;
    const address = parseIpv4Address(addressText);
    if (address === undefined) throw new RangeError(`relay: '${addressText}' is not a dotted IPv4 address`);
    this.address = address;
    const prefix = options.prefixLength ?? 24;
    this.subnetMask = (0xffffffff << (32 - prefix)) >>> 0;
    this.hostLoopback = options.hostLoopback ?? false;
    const network = (address & this.subnetMask) >>> 0;
    const inner: NetworkPort = { send: (frame) => options.port.send(frame), onReceive: undefined };
    this.gateway = new Gateway({
      port: inner,
      mac: this.mac,
      address: addressText,
      prefixLength: prefix,
      dhcp: { poolStart: options.poolStart ?? formatIpv4Address((network + 15) >>> 0), poolSize: options.poolSize ?? 64 },
      dns: { relay: relayDns({ resolve: options.resolve, loopbackAlias: this.hostLoopback ? address : undefined }) },
    });
    const hostAddressFor = (remote: number) => this.hostAddressFor(remote);
    this.tcp = new TcpNat({
      connect: options.connectTcp,
      hostAddressFor,
      timers: options.timers,
      emit: (from, to, segment) => this.sendIp(from.address, to.address, IP_PROTOCOL_TCP, buildTcp(from.address, to.address, segment)),
    });
    this.udp = new UdpNat({
      bind: options.bindUdp,
      hostAddressFor,
      timers: options.timers,
      emit: (from, to, payload) =>
        this.sendIp(from.address, to.address, IP_PROTOCOL_UDP, buildUdp(from.address, to.address, { sourcePort: from.port, destinationPort: to.port, payload })),
    });
    options.port.onReceive = (frame) => {
      if (!this.takeForNat(frame)) inner.onReceive?.(frame);
    };
  }

  /** Ends every NAT connection and mapping. */
  close(): void {
    this.tcp.closeAll();
    this.udp.closeAll();
  }

  /** Where the NAT connects for a destination, or undefined when it is not routed outward. */
  private hostAddressFor(remote: number): number | undefined {
    if (remote === this.address) return this.hostLoopback ? HOST_LOOPBACK : undefined;
    const first = remote >>> 24;
    if (first === 0 || first === 127 || first >= 224) return undefined;
    if ((remote & this.subnetMask) >>> 0 === (this.address & this.subnetMask) >>> 0) return undefined;
    return remote;
  }

  /** Handles a TCP or UDP packet routed through the router; false leaves the frame to the gateway. */
  private takeForNat(frame: Uint8Array): boolean {
    const eth = parseEthernet(frame);
    if (!eth || eth.etherType !== ETHERTYPE_IPV4 || !macEquals(eth.destination, this.mac)) return false;
    const ip = parseIpv4(eth.payload);
    if (!ip || (ip.protocol !== IP_PROTOCOL_TCP && ip.protocol !== IP_PROTOCOL_UDP)) return false;
    if (!this.forNat(ip)) return false;
    if (ip.fragment) {
      this.stats.dropped++;
      return true;
    }
    this.guests.set(ip.source, eth.source.slice());
    if (ip.protocol === IP_PROTOCOL_TCP) {
      const segment = parseTcp(ip.payload, ip.source, ip.destination);
      if (!segment) this.stats.malformed++;
      else this.tcp.receive(ip.source, ip.destination, segment);
      return true;
    }
    const datagram = parseUdp(ip.payload, ip.source, ip.destination);
    if (!datagram) this.stats.malformed++;
    else this.udp.send(ip.source, datagram.sourcePort, ip.destination, datagram.destinationPort, datagram.payload);
    return true;
  }

  private forNat(ip: Ipv4Packet): boolean {
    // TCP to the router itself is host loopback, or refused with RST by the NAT.
    if (ip.destination !== this.address || ip.protocol === IP_PROTOCOL_TCP) return true;
    // UDP to the router: its DHCP and DNS stay with the gateway; other ports are host loopback.
    if (!this.hostLoopback) return false;
    const destinationPort = ip.payload.length >= 4 ? (ip.payload[2] << 8) | ip.payload[3] : 0;
    return !GATEWAY_UDP_SERVICES.has(destinationPort);
  }

  private sendIp(source: number, destination: number, protocol: number, payload: Uint8Array): void {
    const mac = this.guests.get(destination);
    if (!mac) {
      this.stats.dropped++;
      return;
    }
    this.identification = (this.identification + 1) & 0xffff;
    const packet = buildIpv4({ source, destination, protocol, payload, identification: this.identification });
    this.options.port.send(buildEthernet(mac, this.mac, ETHERTYPE_IPV4, packet));
  }
}
