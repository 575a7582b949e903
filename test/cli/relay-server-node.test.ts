import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelayServer, type RunningRelay } from '../../src/cli/relay-server-node.ts';
import { connectNodeWebSocket } from '../../src/cli/websocket-client-node.ts';
import { ARP_REPLY, ARP_REQUEST, buildArp, parseArp } from '../../src/net/arp.ts';
import {
  buildDhcp, DHCP_ACK, DHCP_CLIENT_PORT, DHCP_DISCOVER, DHCP_OFFER, DHCP_REQUEST, DHCP_SERVER_PORT, OPTION_DNS, OPTION_MESSAGE_TYPE,
  OPTION_REQUESTED_ADDRESS, OPTION_ROUTER, OPTION_SERVER_ID, parseDhcp,
} from '../../src/net/dhcp.ts';
import { buildDnsQuery, parseDnsResponse } from '../../src/net/dns.ts';
import { BROADCAST_MAC, buildEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, parseEthernet } from '../../src/net/ethernet.ts';
import { buildIpv4, formatIpv4Address, IP_PROTOCOL_TCP, IP_PROTOCOL_UDP, parseIpv4, parseIpv4Address } from '../../src/net/ipv4.ts';
import type { NetworkPort } from '../../src/net/network-port.ts';
import { attachRelay } from '../../src/net/relay-attach.ts';
import { buildTcp, parseTcp, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type TcpSegment } from '../../src/net/tcp-nat-segment.ts';
import { buildUdp, parseUdp } from '../../src/net/udp.ts';
import { SwitchRegistry } from '../../src/net/virtual-switch.ts';
import type { WebSocketUplink } from '../../src/net/websocket-uplink.ts';

const ip = (t: string) => parseIpv4Address(t)!;
const be32 = (a: number) => new Uint8Array([a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff]);
const ROUTER = ip('10.0.3.2');
const PAGE = 'Hello from the host, through the relay.\n';

/**
 * A guest made of frames: a port on a local bridge whose switch goes to the relay through a
 * WebSocket uplink (the Node client), exactly as a VM's card would be wired.
 */
class ScriptedGuest {
  readonly port: NetworkPort;
  readonly uplink: WebSocketUplink;
  address = 0;
  routerMac: Uint8Array = new Uint8Array(6);
  private inbox: Uint8Array[] = [];
  private waiters: (() => void)[] = [];

  constructor(relayUrl: string, readonly mac: Uint8Array) {
    const registry = new SwitchRegistry();
    this.uplink = attachRelay(registry, 'xenbr0', relayUrl, (url) => connectNodeWebSocket(url));
    this.port = registry.bridge('xenbr0').connect('guest');
    this.port.onReceive = (frame) => {
      this.answerArp(frame);
      this.inbox.push(frame.slice());
      for (const w of this.waiters.splice(0)) w();
    };
  }

  /** Like any host: say who has our address. */
  private answerArp(frame: Uint8Array): void {
    const eth = parseEthernet(frame);
    const a = eth && eth.etherType === ETHERTYPE_ARP ? parseArp(eth.payload) : undefined;
    if (!a || a.operation !== ARP_REQUEST || !this.address || a.targetIp !== this.address) return;
    const reply = buildArp({ operation: ARP_REPLY, senderMac: this.mac, senderIp: this.address, targetMac: a.senderMac, targetIp: a.senderIp });
    this.port.send(buildEthernet(a.senderMac, this.mac, ETHERTYPE_ARP, reply));
  }

  /** The next received frame for which `pick` returns something, within `ms`. */
  async expect<T>(pick: (frame: Uint8Array) => T | undefined, ms = 3000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      for (let i = 0; i < this.inbox.length; i++) {
        const value = pick(this.inbox[i]);
        if (value !== undefined) {
          this.inbox.splice(0, i + 1);
          return value;
        }
      }
      this.inbox.length = 0;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  sendIp(destination: number, protocol: number, payload: Uint8Array, to = this.routerMac): void {
    this.port.send(buildEthernet(to, this.mac, ETHERTYPE_IPV4, buildIpv4({ source: this.address, destination, protocol, payload })));
  }

  sendUdp(destination: number, sourcePort: number, destinationPort: number, payload: Uint8Array, to = this.routerMac): void {
    this.sendIp(destination, IP_PROTOCOL_UDP, buildUdp(this.address, destination, { sourcePort, destinationPort, payload }), to);
  }

  sendTcp(destination: number, s: TcpSegment): void {
    this.sendIp(destination, IP_PROTOCOL_TCP, buildTcp(this.address, destination, s));
  }

  /** A UDP datagram to this guest's port, if `frame` is one. */
  udpTo(frame: Uint8Array, port: number) {
    const eth = parseEthernet(frame);
    const p = eth && eth.etherType === ETHERTYPE_IPV4 ? parseIpv4(eth.payload) : undefined;
    const u = p && p.protocol === IP_PROTOCOL_UDP ? parseUdp(p.payload, p.source, p.destination) : undefined;
    return u && u.destinationPort === port ? { ip: p!, udp: u } : undefined;
  }

  tcpFrom(frame: Uint8Array, remotePort: number) {
    const eth = parseEthernet(frame);
    const p = eth && eth.etherType === ETHERTYPE_IPV4 ? parseIpv4(eth.payload) : undefined;
    const t = p && p.protocol === IP_PROTOCOL_TCP ? parseTcp(p.payload, p.source, p.destination) : undefined;
    return t && t.sourcePort === remotePort ? t : undefined;
  }

  /** Replies are broadcast: as a real client, take only those for our hardware address. */
  private mine(chaddr: Uint8Array): boolean {
    return chaddr.every((b, i) => b === this.mac[i]);
  }

  async dhcp(): Promise<void> {
    const message = (type: number, xid: number, extra: [number, Uint8Array][] = []) =>
      buildDhcp({ op: 1, xid, secs: 0, flags: 0, ciaddr: 0, yiaddr: 0, siaddr: 0, giaddr: 0, chaddr: this.mac, file: '', options: new Map([[OPTION_MESSAGE_TYPE, new Uint8Array([type])], ...extra]) });
    this.sendUdp(0xffffffff, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, message(DHCP_DISCOVER, 1), BROADCAST_MAC);
    const offer = await this.expect((f) => {
      const d = this.udpTo(f, DHCP_CLIENT_PORT);
      const m = d && parseDhcp(d.udp.payload);
      return m && m.options.get(OPTION_MESSAGE_TYPE)?.[0] === DHCP_OFFER && this.mine(m.chaddr) ? m : undefined;
    });
    this.sendUdp(0xffffffff, DHCP_CLIENT_PORT, DHCP_SERVER_PORT, message(DHCP_REQUEST, 2, [[OPTION_REQUESTED_ADDRESS, be32(offer.yiaddr)], [OPTION_SERVER_ID, offer.options.get(OPTION_SERVER_ID)!]]), BROADCAST_MAC);
    const ack = await this.expect((f) => {
      const d = this.udpTo(f, DHCP_CLIENT_PORT);
      const m = d && parseDhcp(d.udp.payload);
      return m && m.options.get(OPTION_MESSAGE_TYPE)?.[0] === DHCP_ACK && this.mine(m.chaddr) ? m : undefined;
    });
    expect(Array.from(ack.options.get(OPTION_ROUTER)!)).toEqual([10, 0, 3, 2]);
    expect(Array.from(ack.options.get(OPTION_DNS)!)).toEqual([10, 0, 3, 2]);
    this.address = ack.yiaddr;
  }

  async arp(target: number): Promise<Uint8Array> {
    this.port.send(buildEthernet(BROADCAST_MAC, this.mac, ETHERTYPE_ARP, buildArp({ operation: ARP_REQUEST, senderMac: this.mac, senderIp: this.address, targetMac: new Uint8Array(6), targetIp: target })));
    return this.expect((f) => {
      const eth = parseEthernet(f);
      const a = eth && eth.etherType === ETHERTYPE_ARP ? parseArp(eth.payload) : undefined;
      return a && a.operation === ARP_REPLY && a.senderIp === target ? a.senderMac : undefined;
    });
  }

  /** One HTTP/1.0 GET over TCP, acknowledging everything; returns the whole response. */
  async httpGet(destination: number, port: number, localPort: number): Promise<string> {
    let seq = 7000;
    const base = { sourcePort: localPort, destinationPort: port, window: 16384, payload: new Uint8Array(0) };
    this.sendTcp(destination, { ...base, sequence: seq, acknowledgement: 0, flags: TCP_SYN, mss: 1460 });
    const synAck = await this.expect((f) => this.tcpFrom(f, port));
    expect(synAck.flags).toBe(TCP_SYN | TCP_ACK);
    seq++;
    let ack = (synAck.sequence + 1) >>> 0;
    const request = new TextEncoder().encode(`GET / HTTP/1.0\r\nHost: relay-test\r\n\r\n`);
    this.sendTcp(destination, { ...base, sequence: seq, acknowledgement: ack, flags: TCP_ACK | TCP_PSH, payload: request });
    seq += request.length;
    let response = '';
    for (;;) {
      const s = await this.expect((f) => this.tcpFrom(f, port));
      if (s.flags & TCP_RST) throw new Error('connection reset');
      if (s.sequence !== ack) continue; // only in-order data counts
      response += new TextDecoder().decode(s.payload);
      ack = (ack + s.payload.length + (s.flags & TCP_FIN ? 1 : 0)) >>> 0;
      if (s.payload.length || s.flags & TCP_FIN) this.sendTcp(destination, { ...base, sequence: seq, acknowledgement: ack, flags: TCP_ACK });
      if (s.flags & TCP_FIN) break;
    }
    this.sendTcp(destination, { ...base, sequence: seq, acknowledgement: ack, flags: TCP_FIN | TCP_ACK });
    const last = await this.expect((f) => this.tcpFrom(f, port));
    expect(last.acknowledgement).toBe(seq + 1);
    return response;
  }
}

let relay: RunningRelay;
let http: Server;
let httpPort: number;
const guests: ScriptedGuest[] = [];

beforeAll(async () => {
  http = createServer((_req, res) => res.end(PAGE));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpPort = (http.address() as AddressInfo).port;
  relay = await startRelayServer({ host: '127.0.0.1', port: 0, hostLoopback: true });
});

afterAll(async () => {
  for (const g of guests) g.uplink.close();
  await relay.close();
  http.close();
});

function guest(last: number): ScriptedGuest {
  const g = new ScriptedGuest(relay.url, new Uint8Array([0x00, 0x16, 0x3e, 0x00, 0x00, last]));
  guests.push(g);
  return g;
}

describe('webhvm relay, end to end in Node', () => {
  it('leases an address, answers ARP, resolves names, and carries an HTTP GET to a server on the host', async () => {
    const g = guest(1);
    await g.dhcp();
    expect(formatIpv4Address(g.address)).toBe('10.0.3.15');
    g.routerMac = await g.arp(ROUTER);
    expect(g.routerMac).toEqual(relay.network.mac);
    // DNS through the host's resolver: localhost is the host's loopback, so the router's address.
    g.sendUdp(ROUTER, 5353, 53, buildDnsQuery(9, 'localhost'));
    const dns = await g.expect((f) => g.udpTo(f, 5353));
    expect(parseDnsResponse(dns.udp.payload)).toEqual({ id: 9, rcode: 0, addresses: [ROUTER] });
    g.sendUdp(ROUTER, 5354, 53, buildDnsQuery(10, 'no-such-name.invalid'));
    expect(parseDnsResponse((await g.expect((f) => g.udpTo(f, 5354))).udp.payload)!.rcode).toBe(3);

    const response = await g.httpGet(ROUTER, httpPort, 41000);
    expect(response).toMatch(/^HTTP\/1.1 200 OK/);
    expect(response.endsWith(PAGE)).toBe(true);
    expect(relay.network.tcp.stats.opened).toBe(1);
  });

  it('refuses a TCP port nobody listens on with RST', async () => {
    const g = guest(2);
    await g.dhcp();
    g.routerMac = await g.arp(ROUTER);
    // A port just freed is the surest closed one.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    g.sendTcp(ROUTER, { sourcePort: 41001, destinationPort: closedPort, sequence: 1, acknowledgement: 0, flags: TCP_SYN, window: 1000, payload: new Uint8Array(0) });
    const reply = await g.expect((f) => g.tcpFrom(f, closedPort));
    expect(reply.flags & TCP_RST).toBeTruthy();
    expect(reply.acknowledgement).toBe(2);
  });

  it('carries UDP both ways through the NAT', async () => {
    const echo = createSocket('udp4');
    echo.on('message', (m, from) => echo.send(Buffer.concat([Buffer.from('echo:'), m]), from.port, from.address));
    await new Promise<void>((r) => echo.bind(0, '127.0.0.1', r));
    const g = guest(3);
    await g.dhcp();
    g.routerMac = await g.arp(ROUTER);
    g.sendUdp(ROUTER, 6000, echo.address().port, new TextEncoder().encode('ping'));
    const reply = await g.expect((f) => g.udpTo(f, 6000));
    expect(reply.ip.source).toBe(ROUTER);
    expect(reply.udp.sourcePort).toBe(echo.address().port);
    expect(new TextDecoder().decode(reply.udp.payload)).toBe('echo:ping');
    echo.close();
  });

  it('puts all clients on one switch: guests on two uplinks reach each other', async () => {
    const a = guest(4);
    const b = guest(5);
    await a.dhcp();
    await b.dhcp();
    expect(a.address).not.toBe(b.address);
    expect(await a.arp(b.address)).toEqual(b.mac);
  });

  it('drops what is not a frame and counts it, keeping the client connected', async () => {
    const socket = connectNodeWebSocket(relay.url);
    await new Promise((r) => (socket.onopen = r));
    const before = relay.stats.badMessages;
    socket.send('text is not a frame');
    socket.send(new Uint8Array(5));
    socket.send(new Uint8Array(4000));
    await new Promise((r) => setTimeout(r, 100));
    expect(relay.stats.badMessages).toBe(before + 3);
    expect(socket.readyState).toBe(1);
    socket.close();
  });
});
