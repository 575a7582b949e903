/**
 * A learning Ethernet switch, one per bridge name (the `bridge=` of a `vif` entry): the cards of
 * this machine, the built-in gateway and other machines plug into ports. It learns which port
 * each source address lives behind (IEEE 802.1D transparent bridging, without ageing timers or
 * spanning tree), forwards known unicast to that port only, and floods broadcast, multicast
 * and unknown unicast to every other port. A frame never goes back out of the port it came in.
 *
 * A link to other browser tabs (BroadcastChannel) is just another port: connect one, forward
 * what its `onReceive` gets to the channel and call its `send` for what arrives from the
 * channel.
 *
 * Delivery is synchronous: `send` returns after every receiver has seen the frame. Endpoints
 * that must not be re-entered while sending (a card in the middle of a register write) queue
 * what arrives meanwhile; see Rtl8139.
 */
import { ETHERNET_HEADER_BYTES, isMulticast, macKey } from './ethernet.ts';
import { MAX_FRAME_BYTES, type NetworkPort } from './network-port.ts';

/** What the switch counted, for diagnostics. */
export interface SwitchStats {
  forwarded: number;
  flooded: number;
  /** Frames shorter than a header or longer than MAX_FRAME_BYTES. */
  dropped: number;
}

class SwitchPort implements NetworkPort {
  onReceive: ((frame: Uint8Array) => void) | undefined;
  connected = true;
  constructor(readonly owner: VirtualSwitch, readonly name: string) {}
  send(frame: Uint8Array): void {
    if (this.connected) this.owner.forward(this, frame);
  }
}

export class VirtualSwitch {
  readonly stats: SwitchStats = { forwarded: 0, flooded: 0, dropped: 0 };
  /** Called after every frame the switch passes on (a host loop sleeping while its guests halt wakes). */
  onActivity: (() => void) | undefined;
  private readonly ports: SwitchPort[] = [];
  private readonly table = new Map<number, SwitchPort>();

  constructor(readonly name: string) {}

  /** A new port; `name` shows in diagnostics only. */
  connect(name: string): NetworkPort {
    const port = new SwitchPort(this, name);
    this.ports.push(port);
    return port;
  }

  /** Unplugs a port: it sends nothing more and receives nothing more. */
  disconnect(port: NetworkPort): void {
    const i = this.ports.indexOf(port as SwitchPort);
    if (i < 0) return;
    this.ports[i].connected = false;
    this.ports.splice(i, 1);
    for (const [mac, p] of this.table) if (p === port) this.table.delete(mac);
  }

  /** Names of the connected ports, in connection order. */
  portNames(): string[] {
    return this.ports.map((p) => p.name);
  }

  /** @internal Called by a port's send. */
  forward(from: SwitchPort, frame: Uint8Array): void {
    if (frame.length < ETHERNET_HEADER_BYTES || frame.length > MAX_FRAME_BYTES) {
      this.stats.dropped++;
      return;
    }
    const source = frame.subarray(6, 12);
    // A group address is never a valid source; do not learn it.
    if (!isMulticast(source)) this.table.set(macKey(source), from);
    const destination = frame.subarray(0, 6);
    const known = isMulticast(destination) ? undefined : this.table.get(macKey(destination));
    if (known) {
      if (known !== from) {
        this.stats.forwarded++;
        known.onReceive?.(frame);
        this.onActivity?.();
      }
      return;
    }
    this.stats.flooded++;
    // Copy the list: a receiver may connect or disconnect ports while handling the frame.
    for (const port of this.ports.slice()) {
      if (port !== from && port.connected) port.onReceive?.(frame);
    }
    this.onActivity?.();
  }
}

/** The switches of one page or process, one per bridge name, made on first use. */
export class SwitchRegistry {
  private readonly switches = new Map<string, VirtualSwitch>();

  /** `onActivity` goes to every switch made here (see VirtualSwitch.onActivity). */
  constructor(protected readonly onActivity?: () => void) {}

  bridge(name: string): VirtualSwitch {
    let sw = this.switches.get(name);
    if (!sw) {
      sw = new VirtualSwitch(name);
      sw.onActivity = this.onActivity;
      this.switches.set(name, sw);
    }
    return sw;
  }

  names(): string[] {
    return [...this.switches.keys()];
  }
}
