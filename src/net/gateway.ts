/**
 * The built-in gateway: a host on a virtual switch that gives guests what a home router or
 * QEMU's user-mode network gives them. It answers ARP for its address, ICMP echo (ping) to its
 * address, leases addresses by DHCP, answers DNS from a static table (forwarding through a relay
 * when one is plugged in), and lets further UDP services bind ports on it (the TFTP server for
 * network boot). Defaults follow QEMU's user network: gateway 10.0.2.2/24, leases from
 * 10.0.2.15, the gateway also being the DNS server.
 *
 * A switch has one built-in gateway however many machines are plugged into it (one DHCP server
 * per broadcast domain): `builtInGateway` makes it on first use.
 *
 * Left out for now: forwarding to the outside world (TCP/UDP relays), IP fragment reassembly
 * (fragments are dropped and counted), ICMP errors (unknown ports and unrouted destinations are
 * dropped silently and counted).
 */
import { buildArp, parseArp, ARP_REPLY, ARP_REQUEST } from './arp.ts';
import { DhcpServer, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, type DhcpServerConfig } from './dhcp.ts';
import { DnsServer, DNS_PORT, type DnsRelay } from './dns.ts';
import { BROADCAST_MAC, buildEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, isMulticast, macEquals, parseEthernet } from './ethernet.ts';
import { echoReply, parseIcmp } from './icmp.ts';
import { buildIpv4, IP_PROTOCOL_ICMP, IP_PROTOCOL_UDP, parseIpv4, parseIpv4Address } from './ipv4.ts';
import type { NetworkPort } from './network-port.ts';
import { buildUdp, parseUdp } from './udp.ts';
import { TftpServer, type TftpFiles } from './tftp.ts';
import type { UdpBinder, UdpEndpoint, UdpHandler } from './udp-service.ts';

export interface GatewayOptions {
  port: NetworkPort;
  /** Default 52:55:0a:00:02:02 (locally administered, as QEMU's user network). */
  mac?: Uint8Array;
  /** Dotted address; default 10.0.2.2. */
  address?: string;
  /** Subnet prefix length; default 24. */
  prefixLength?: number;
  /** DHCP pool and boot settings; `false` turns the DHCP server off. */
  dhcp?: false | { poolStart?: string; poolSize?: number; leaseSeconds?: number; domainName?: string; bootFile?: string; nextServer?: string };
  /** Static host table (name -> dotted address) and an optional relay; `false` turns DNS off. */
  dns?: false | { hosts?: Record<string, string>; relay?: DnsRelay; ttlSeconds?: number };
  /** Files a read-only TFTP server on the gateway's address serves (network boot); none if absent. */
  tftp?: TftpFiles;
}

export interface GatewayStats {
  arpReplies: number;
  echoReplies: number;
  udpDelivered: number;
  /** Frames or packets that failed to parse (bad lengths, checksums, versions). */
  malformed: number;
  /** IP fragments, which the gateway does not reassemble. */
  fragments: number;
  /** Well-formed packets nobody here wanted (other destinations, unbound ports, other protocols). */
  ignored: number;
}

const ANY = 0;
const LIMITED_BROADCAST = 0xffffffff;

export class Gateway implements UdpBinder {
  readonly stats: GatewayStats = { arpReplies: 0, echoReplies: 0, udpDelivered: 0, malformed: 0, fragments: 0, ignored: 0 };
  readonly mac: Uint8Array;
  readonly address: number;
  readonly subnetMask: number;
  readonly dhcp?: DhcpServer;
  readonly dns?: DnsServer;
  readonly tftp?: TftpServer;
  private readonly port: NetworkPort;
  private readonly handlers = new Map<number, UdpHandler>();
  /** IPv4 address to hardware address, learned from every packet the gateway receives. */
  private readonly neighbours = new Map<number, Uint8Array>();
  private identification = 0;

  constructor(options: GatewayOptions) {
    this.port = options.port;
    this.mac = (options.mac ?? new Uint8Array([0x52, 0x55, 0x0a, 0x00, 0x02, 0x02])).slice(0, 6);
    this.address = requireAddress(options.address ?? '10.0.2.2', 'gateway address');
    const prefix = options.prefixLength ?? 24;
    if (!Number.isInteger(prefix) || prefix < 1 || prefix > 30) throw new RangeError(`gateway: prefix length ${prefix} is not 1-30`);
    this.subnetMask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const network = (this.address & this.subnetMask) >>> 0;
    if (options.dhcp !== false) {
      const d = options.dhcp ?? {};
      const poolStart = d.poolStart ? requireAddress(d.poolStart, 'DHCP pool start') : (network + 15) >>> 0;
      const broadcast = (network | ~this.subnetMask) >>> 0;
      const poolSize = Math.min(d.poolSize ?? 16, broadcast - poolStart);
      if ((poolStart & this.subnetMask) >>> 0 !== network || poolSize < 1) {
        throw new RangeError('gateway: the DHCP pool must lie inside the gateway subnet');
      }
      const config: DhcpServerConfig = {
        serverAddress: this.address,
        subnetMask: this.subnetMask,
        router: this.address,
        dnsServers: options.dns === false ? [] : [this.address],
        poolStart,
        poolSize,
        leaseSeconds: d.leaseSeconds ?? 86400,
        domainName: d.domainName,
        bootFile: d.bootFile,
        nextServer: d.bootFile ? (d.nextServer ? requireAddress(d.nextServer, 'next server') : this.address) : undefined,
      };
      const server = (this.dhcp = new DhcpServer(config));
      this.bind(DHCP_SERVER_PORT, (payload) => {
        const reply = server.handle(payload);
        if (reply) this.sendUdp(DHCP_SERVER_PORT, { address: LIMITED_BROADCAST, port: DHCP_CLIENT_PORT }, reply, BROADCAST_MAC);
      });
    }
    if (options.dns !== false) {
      const d = options.dns ?? {};
      const hosts = new Map<string, number>();
      for (const [name, text] of Object.entries(d.hosts ?? {})) hosts.set(name.toLowerCase().replace(/\.$/, ''), requireAddress(text, `DNS entry ${name}`));
      const server = (this.dns = new DnsServer({ hosts, relay: d.relay, ttlSeconds: d.ttlSeconds }));
      this.bind(DNS_PORT, (payload, from) => server.handle(payload, (response) => this.sendTo(DNS_PORT, from, response)));
    }
    if (options.tftp) this.tftp = new TftpServer({ udp: this, files: options.tftp });
    this.port.onReceive = (frame) => this.receive(frame);
  }

  bind(port: number, handler: UdpHandler): boolean {
    if (this.handlers.has(port)) return false;
    this.handlers.set(port, handler);
    return true;
  }

  unbind(port: number): void {
    this.handlers.delete(port);
  }

  sendTo(localPort: number, to: UdpEndpoint, payload: Uint8Array): void {
    const mac = to.address === LIMITED_BROADCAST ? BROADCAST_MAC : this.neighbours.get(to.address);
    // Replies only ever go to hosts that just spoke to us, so the address is always known.
    if (!mac) {
      this.stats.ignored++;
      return;
    }
    this.sendUdp(localPort, to, payload, mac);
  }

  private sendUdp(localPort: number, to: UdpEndpoint, payload: Uint8Array, mac: Uint8Array): void {
    const udp = buildUdp(this.address, to.address, { sourcePort: localPort, destinationPort: to.port, payload });
    this.sendIp(to.address, IP_PROTOCOL_UDP, udp, mac);
  }

  private sendIp(destination: number, protocol: number, payload: Uint8Array, mac: Uint8Array): void {
    this.identification = (this.identification + 1) & 0xffff;
    const packet = buildIpv4({ source: this.address, destination, protocol, payload, identification: this.identification });
    this.port.send(buildEthernet(mac, this.mac, ETHERTYPE_IPV4, packet));
  }

  private receive(frame: Uint8Array): void {
    const eth = parseEthernet(frame);
    if (!eth) {
      this.stats.malformed++;
      return;
    }
    if (!isMulticast(eth.destination) && !macEquals(eth.destination, this.mac)) {
      this.stats.ignored++;
      return;
    }
    if (eth.etherType === ETHERTYPE_ARP) return this.receiveArp(eth.payload);
    if (eth.etherType !== ETHERTYPE_IPV4) {
      this.stats.ignored++;
      return;
    }
    const ip = parseIpv4(eth.payload);
    if (!ip) {
      this.stats.malformed++;
      return;
    }
    if (ip.fragment) {
      this.stats.fragments++;
      return;
    }
    if (ip.source !== ANY && !isMulticast(eth.source)) this.neighbours.set(ip.source, eth.source.slice());
    const broadcast = (this.address | ~this.subnetMask) >>> 0;
    const forUs = ip.destination === this.address;
    if (ip.protocol === IP_PROTOCOL_ICMP && forUs) {
      const icmp = parseIcmp(ip.payload);
      const reply = icmp && echoReply(icmp);
      if (!icmp) this.stats.malformed++;
      else if (!reply) this.stats.ignored++;
      else {
        this.stats.echoReplies++;
        this.sendIp(ip.source, IP_PROTOCOL_ICMP, reply, eth.source);
      }
      return;
    }
    if (ip.protocol === IP_PROTOCOL_UDP && (forUs || ip.destination === LIMITED_BROADCAST || ip.destination === broadcast)) {
      const udp = parseUdp(ip.payload, ip.source, ip.destination);
      if (!udp) {
        this.stats.malformed++;
        return;
      }
      const handler = this.handlers.get(udp.destinationPort);
      if (!handler) {
        this.stats.ignored++;
        return;
      }
      this.stats.udpDelivered++;
      handler(udp.payload, { address: ip.source, port: udp.sourcePort }, udp.destinationPort);
      return;
    }
    this.stats.ignored++;
  }

  private receiveArp(payload: Uint8Array): void {
    const arp = parseArp(payload);
    if (!arp) {
      this.stats.malformed++;
      return;
    }
    if (arp.senderIp !== ANY) this.neighbours.set(arp.senderIp, arp.senderMac);
    if (arp.operation !== ARP_REQUEST || arp.targetIp !== this.address) {
      if (arp.operation !== ARP_REPLY) this.stats.ignored++;
      return;
    }
    this.stats.arpReplies++;
    const reply = buildArp({ operation: ARP_REPLY, senderMac: this.mac, senderIp: this.address, targetMac: arp.senderMac, targetIp: arp.senderIp });
    this.port.send(buildEthernet(arp.senderMac, this.mac, ETHERTYPE_ARP, reply));
  }
}

function requireAddress(text: string, what: string): number {
  const a = parseIpv4Address(text);
  if (a === undefined) throw new RangeError(`gateway: ${what} '${text}' is not a dotted IPv4 address`);
  return a;
}

/** Anything gateways plug into: a virtual switch. */
export interface GatewaySocket {
  connect(name: string): NetworkPort;
}

const builtInGateways = new WeakMap<GatewaySocket, Gateway>();

/**
 * The built-in gateway of `socket` (a switch), made and plugged in on the first call. `options`
 * only count on that first call: whoever sets up the network (the runner, a test) configures the
 * gateway before the machines are built; the machines then find it.
 */
export function builtInGateway(socket: GatewaySocket, options: Omit<GatewayOptions, 'port'> = {}): Gateway {
  let gateway = builtInGateways.get(socket);
  if (!gateway) {
    gateway = new Gateway({ ...options, port: socket.connect('gateway') });
    builtInGateways.set(socket, gateway);
  }
  return gateway;
}
