/**
 * The relay's UDP NAT: each guest address and port that sends a datagram outward gets its own
 * host UDP socket (a full-cone mapping, as home routers do): datagrams go out from it, and
 * whatever arrives on it comes back to that guest port, from the address the guest used for
 * the peer. Mappings close after a minute without traffic either way.
 */
import { globalTimers, type HostUdpBinder, type HostUdpSocket, type NatTimers } from './tcp-nat-host.ts';

export interface UdpNatOptions {
  bind: HostUdpBinder;
  /** Host address for a destination the guest named, or undefined to drop the datagram. */
  hostAddressFor: (remoteAddress: number) => number | undefined;
  /** Puts a datagram on the guest's wire. */
  emit: (from: { address: number; port: number }, to: { address: number; port: number }, payload: Uint8Array) => void;
  timers?: NatTimers;
  idleMs?: number;
  /** Mappings open at once; datagrams needing another are dropped. Default 256. */
  maxMappings?: number;
}

export interface UdpNatStats {
  sent: number;
  received: number;
  dropped: number;
}

interface Mapping {
  socket: HostUdpSocket;
  timer: unknown;
  /** Host address -> the address the guest used for it (its own view of the peer). */
  guestView: Map<number, number>;
}

export const UDP_IDLE_MS = 60_000;

export class UdpNat {
  readonly stats: UdpNatStats = { sent: 0, received: 0, dropped: 0 };
  private readonly mappings = new Map<string, Mapping>();
  private readonly timers: NatTimers;

  constructor(private readonly options: UdpNatOptions) {
    this.timers = options.timers ?? globalTimers;
  }

  get size(): number {
    return this.mappings.size;
  }

  /** A datagram from the guest at guestAddress:guestPort to remoteAddress:remotePort. */
  send(guestAddress: number, guestPort: number, remoteAddress: number, remotePort: number, payload: Uint8Array): void {
    const hostAddress = this.options.hostAddressFor(remoteAddress);
    if (hostAddress === undefined || remotePort === 0) {
      this.stats.dropped++;
      return;
    }
    const mapping = this.mappingFor(guestAddress, guestPort);
    if (!mapping) {
      this.stats.dropped++;
      return;
    }
    mapping.guestView.set(hostAddress, remoteAddress);
    this.touch(guestAddress, guestPort, mapping);
    this.stats.sent++;
    mapping.socket.send(hostAddress, remotePort, payload.slice());
  }

  closeAll(): void {
    for (const m of this.mappings.values()) {
      this.timers.clear(m.timer);
      m.socket.close();
    }
    this.mappings.clear();
  }

  private mappingFor(guestAddress: number, guestPort: number): Mapping | undefined {
    const key = `${guestAddress}:${guestPort}`;
    const existing = this.mappings.get(key);
    if (existing) return existing;
    if (this.mappings.size >= (this.options.maxMappings ?? 256)) return undefined;
    const guestView = new Map<number, number>();
    const socket = this.options.bind((payload, address, port) => {
      const mapping = this.mappings.get(key);
      if (!mapping || mapping.socket !== socket) return;
      this.stats.received++;
      this.touch(guestAddress, guestPort, mapping);
      this.options.emit({ address: guestView.get(address) ?? address, port }, { address: guestAddress, port: guestPort }, payload);
    });
    const mapping: Mapping = { socket, timer: undefined, guestView };
    this.mappings.set(key, mapping);
    return mapping;
  }

  private touch(guestAddress: number, guestPort: number, mapping: Mapping): void {
    this.timers.clear(mapping.timer);
    mapping.timer = this.timers.set(() => {
      this.mappings.delete(`${guestAddress}:${guestPort}`);
      mapping.socket.close();
    }, this.options.idleMs ?? UDP_IDLE_MS);
  }
}
