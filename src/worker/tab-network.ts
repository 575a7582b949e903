/**
 * The network of the page's machine: every bridge its `vif`s name is linked over a
 * BroadcastChannel to the same-named bridge in other tabs and workers of this origin, so VMs in
 * several tabs share one Ethernet segment (docs/networking.md, "Tabs").
 *
 * A shared segment must have one DHCP server (two would lease the same addresses), so only one
 * tab's built-in gateway answers on a bridge: the tab holding the Web Lock
 * `webhvm-gateway:<bridge>`. The lock is held for the life of the worker; when that tab closes,
 * the browser grants it to a waiting tab, whose gateway then answers. Gateways of the other
 * tabs are cut off from their switch (a closed gate on the gateway's port). The page's relay
 * (`?relay=`) is plugged in by the same tab, so a segment has at most one way out and no loop
 * through the relay. Without Web Locks (an old browser) each tab's gateway answers.
 */
import { BroadcastChannelLink } from '../net/broadcast-channel-link.ts';
import type { NetworkPort } from '../net/network-port.ts';
import { attachRelay } from '../net/relay-attach.ts';
import { SwitchRegistry, VirtualSwitch } from '../net/virtual-switch.ts';
import type { WebSocketUplink } from '../net/websocket-uplink.ts';

export const GATEWAY_LOCK_PREFIX = 'webhvm-gateway:';
/** The port name builtInGateway (src/net/gateway.ts) connects its gateway with. */
const GATEWAY_PORT_NAME = 'gateway';

/** The part of the Web Locks API (navigator.locks) used here. */
export interface LockManagerLike {
  request(name: string, options: { ifAvailable: boolean }, callback: (lock: unknown) => Promise<void> | undefined): Promise<unknown>;
  request(name: string, callback: (lock: unknown) => Promise<void> | undefined): Promise<unknown>;
}

export interface TabNetworkOptions {
  /** Default: navigator.locks where it exists. */
  locks?: LockManagerLike;
  /** Default: a real BroadcastChannel per bridge (see BroadcastChannelLink). */
  link?: (sw: VirtualSwitch) => BroadcastChannelLink;
  /** Told what happens (which tab's gateway answers, relay status). */
  note?: (message: string) => void;
  /** Called after every frame a switch passes on (wakes the worker's idle sleep). */
  onActivity?: () => void;
}

/** A port that passes frames both ways only while `open()` says so. */
class GatedPort implements NetworkPort {
  onReceive: ((frame: Uint8Array) => void) | undefined;
  constructor(private readonly inner: NetworkPort, private readonly open: () => boolean) {
    inner.onReceive = (frame) => {
      if (this.open()) this.onReceive?.(frame);
    };
  }
  send(frame: Uint8Array): void {
    if (this.open()) this.inner.send(frame);
  }
}

/** A switch whose built-in gateway answers only while this tab serves the bridge. */
class TabBridge extends VirtualSwitch {
  gatewayAnswers = false;
  override connect(name: string): NetworkPort {
    const port = super.connect(name);
    return name === GATEWAY_PORT_NAME ? new GatedPort(port, () => this.gatewayAnswers) : port;
  }
}

class TabSwitchRegistry extends SwitchRegistry {
  private readonly bridges = new Map<string, TabBridge>();
  constructor(private readonly made: (sw: TabBridge) => void, onActivity?: () => void) {
    super(onActivity);
  }
  override bridge(name: string): TabBridge {
    let sw = this.bridges.get(name);
    if (!sw) {
      sw = new TabBridge(name);
      sw.onActivity = this.onActivity;
      this.bridges.set(name, sw);
      this.made(sw);
    }
    return sw;
  }
  override names(): string[] {
    return [...this.bridges.keys()];
  }
}

export class TabNetwork {
  /** The page's `?relay=` WebSocket URL (checked by the caller), used by the next newRegistry(). */
  relayUrl: string | undefined;
  private registry: TabSwitchRegistry | undefined;
  private links: BroadcastChannelLink[] = [];
  private uplinks: WebSocketUplink[] = [];
  /** Bridges whose gateway (and relay) this tab provides; kept across machines. */
  private readonly served = new Set<string>();
  private readonly claimed = new Set<string>();
  private readonly locks: LockManagerLike | undefined;

  constructor(private readonly options: TabNetworkOptions = {}) {
    this.locks = options.locks ?? (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
  }

  /** A fresh set of switches for a new machine; the previous machine's are unplugged. */
  newRegistry(): SwitchRegistry {
    this.close();
    const registry = new TabSwitchRegistry((sw) => {
      sw.gatewayAnswers = this.served.has(sw.name);
      this.links.push(this.options.link ? this.options.link(sw) : new BroadcastChannelLink(sw));
      if (sw.gatewayAnswers) this.plugRelay(registry, sw.name);
      void this.claim(sw.name);
    }, this.options.onActivity);
    this.registry = registry;
    return registry;
  }

  /** True when this tab's built-in gateway answers on `bridge`. */
  servesGateway(bridge: string): boolean {
    return this.served.has(bridge);
  }

  /** Resolves once every bridge made so far knows whether this tab serves it. */
  async settled(): Promise<void> {
    await Promise.all([...this.pending.values()]);
  }

  /** Unplugs the links and relays of the current switches. */
  close(): void {
    for (const link of this.links) link.close();
    for (const uplink of this.uplinks) uplink.close();
    this.links = [];
    this.uplinks = [];
    this.registry = undefined;
  }

  private readonly pending = new Map<string, Promise<void>>();

  /** Asks for the bridge's gateway lock once per worker; holds it until the worker ends. */
  private claim(bridge: string): Promise<void> {
    if (this.claimed.has(bridge)) return this.pending.get(bridge) ?? Promise.resolve();
    this.claimed.add(bridge);
    const locks = this.locks;
    if (!locks) {
      this.serve(bridge);
      return Promise.resolve();
    }
    const name = GATEWAY_LOCK_PREFIX + bridge;
    const holdForever = () => new Promise<void>(() => {});
    const decided = new Promise<void>((resolve) => {
      void locks.request(name, { ifAvailable: true }, (lock) => {
        resolve();
        if (!lock) {
          this.options.note?.(`${bridge}: the built-in gateway of another tab answers on this bridge`);
          // Take over when the tab that serves the bridge closes.
          void locks.request(name, () => {
            this.serve(bridge);
            return holdForever();
          });
          return undefined;
        }
        this.serve(bridge);
        return holdForever();
      });
    });
    this.pending.set(bridge, decided);
    return decided;
  }

  private serve(bridge: string): void {
    this.served.add(bridge);
    const registry = this.registry;
    const sw = registry?.names().includes(bridge) ? registry.bridge(bridge) : undefined;
    if (sw) {
      sw.gatewayAnswers = true;
      this.plugRelay(registry!, bridge);
    }
    this.options.note?.(`${bridge}: this tab's built-in gateway answers on this bridge${this.relayUrl ? ` (DHCP from the relay ${this.relayUrl})` : ''}`);
  }

  private plugRelay(registry: SwitchRegistry, bridge: string): void {
    const url = this.relayUrl;
    if (!url) return;
    this.uplinks.push(attachRelay(registry, bridge, url, undefined, {
      onStatus: (status, detail) => this.options.note?.(`relay ${status}: ${detail}`),
    }));
  }
}
