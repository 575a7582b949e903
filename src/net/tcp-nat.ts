/**
 * The relay's TCP NAT: guests' outgoing TCP connections become host sockets. Segments from the
 * guest are matched to a connection by (guest address, guest port, remote address, remote port);
 * a SYN for a new pair opens one (NatConnection), anything else for an unknown pair gets the RST
 * a closed port sends (RFC 9293 section 3.10.7.1). Only connections the guest opens are
 * carried: nothing listens for connections from outside.
 */
import { NatConnection, type TcpEndpoints } from './tcp-nat-connection.ts';
import { globalTimers, type HostTcpConnector, type NatTimers } from './tcp-nat-host.ts';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpSegment } from './tcp-nat-segment.ts';

export interface TcpNatOptions {
  connect: HostTcpConnector;
  /**
   * The host address to connect to for a destination the guest asked for (the relay maps its
   * own address to the host's loopback), or undefined to refuse with RST.
   */
  hostAddressFor: (remoteAddress: number) => number | undefined;
  /** Puts a segment on the guest's wire, from `from` to `to`. */
  emit: (from: { address: number; port: number }, to: { address: number; port: number }, segment: TcpSegment) => void;
  timers?: NatTimers;
  /** Connections open at once; further SYNs are refused. Default 1024. */
  maxConnections?: number;
}

export interface TcpNatStats {
  opened: number;
  refused: number;
  /** RSTs sent for segments that belong to no connection. */
  strays: number;
}

export class TcpNat {
  readonly stats: TcpNatStats = { opened: 0, refused: 0, strays: 0 };
  private readonly connections = new Map<string, NatConnection>();
  private readonly timers: NatTimers;
  /** Initial sequence numbers: a different, spread-out start for each connection. */
  private nextIss = 0x2f3a_0000;

  constructor(private readonly options: TcpNatOptions) {
    this.timers = options.timers ?? globalTimers;
  }

  get size(): number {
    return this.connections.size;
  }

  /** A segment the guest at `guestAddress` sent to `remoteAddress`. */
  receive(guestAddress: number, remoteAddress: number, s: TcpSegment): void {
    const endpoints: TcpEndpoints = { guestAddress, guestPort: s.sourcePort, remoteAddress, remotePort: s.destinationPort };
    const key = `${guestAddress}:${s.sourcePort}>${remoteAddress}:${s.destinationPort}`;
    let connection = this.connections.get(key);
    const newSyn = (s.flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN;
    if (connection && connection.state === 'closed' && newSyn) {
      // A new connection reusing the pair of a finished one (the guest's TIME-WAIT is over).
      this.connections.delete(key);
      connection = undefined;
    }
    if (connection) {
      connection.receive(s);
      return;
    }
    if (!newSyn) {
      if (!(s.flags & TCP_RST)) this.refuse(endpoints, s, true);
      return;
    }
    const hostAddress = this.options.hostAddressFor(remoteAddress);
    if (hostAddress === undefined || this.connections.size >= (this.options.maxConnections ?? 1024)) {
      this.refuse(endpoints, s, false);
      return;
    }
    this.stats.opened++;
    this.nextIss = (this.nextIss + 0x0100_7f13) >>> 0;
    let created: NatConnection | undefined = undefined;
    created = new NatConnection(endpoints, s, this.nextIss, hostAddress, {
      connect: this.options.connect,
      timers: this.timers,
      emit: (segment) => this.options.emit({ address: remoteAddress, port: endpoints.remotePort }, { address: guestAddress, port: endpoints.guestPort }, segment),
      forget: () => {
        if (this.connections.get(key) === created) this.connections.delete(key);
      },
    });
    // The host connector may fail synchronously and close the connection at once.
    if (created.state !== 'closed') this.connections.set(key, created);
  }

  /** Resets every connection (the relay is shutting down). */
  closeAll(): void {
    for (const connection of [...this.connections.values()]) connection.abort();
    this.connections.clear();
  }

  private refuse(e: TcpEndpoints, s: TcpSegment, stray: boolean): void {
    if (stray) this.stats.strays++;
    else this.stats.refused++;
    const length = s.payload.length + (s.flags & TCP_SYN ? 1 : 0) + (s.flags & TCP_FIN ? 1 : 0);
    const reset: TcpSegment = s.flags & TCP_ACK
      ? { sourcePort: e.remotePort, destinationPort: e.guestPort, sequence: s.acknowledgement, acknowledgement: 0, flags: TCP_RST, window: 0, payload: new Uint8Array(0) }
      : { sourcePort: e.remotePort, destinationPort: e.guestPort, sequence: 0, acknowledgement: (s.sequence + length) >>> 0, flags: TCP_RST | TCP_ACK, window: 0, payload: new Uint8Array(0) };
    this.options.emit({ address: e.remoteAddress, port: e.remotePort }, { address: e.guestAddress, port: e.guestPort }, reset);
  }
}
