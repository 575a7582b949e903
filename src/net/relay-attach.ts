/**
 * How a VM's bridge goes out through a relay (the runner's `--relay ws://HOST:PORT/`, the page's
 * `?relay=`): the bridge's switch gets a WebSocket uplink, and from then on the relay's network
 * serves that bridge's DHCP. The built-in gateway on such a bridge must not answer DHCP too (two
 * servers would race, and the local one, answering synchronously, would always win), so its
 * DHCP server is switched off here; it keeps answering ARP, ping and DNS at its own address,
 * which is outside the relay's subnet and so never used by guests that took the relay's lease.
 */
import { DHCP_SERVER_PORT } from './dhcp.ts';
import { builtInGateway } from './gateway.ts';
import type { SwitchRegistry, VirtualSwitch } from './virtual-switch.ts';
import { globalWebSocketFactory, WebSocketUplink, type UplinkOptions, type WebSocketFactory } from './websocket-uplink.ts';

const relayed = new WeakMap<VirtualSwitch, WebSocketUplink>();

/** Checks a relay URL before anything starts; returns an error message or undefined. */
export function checkRelayUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `relay: '${url}' is not a URL (expected ws://HOST:PORT/ or wss://HOST/)`;
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') return `relay: '${url}': expected a ws:// or wss:// URL`;
  return undefined;
}

/**
 * Plugs a WebSocket uplink to `url` into the switch of `bridge` and turns off the DHCP server of
 * the bridge's built-in gateway (made here without one if it does not exist yet, so call this
 * before or after the machines on the bridge are built). One relay per bridge.
 */
export function attachRelay(
  registry: SwitchRegistry,
  bridge: string,
  url: string,
  webSocketFactory: WebSocketFactory = globalWebSocketFactory,
  options: Omit<UplinkOptions, 'url' | 'webSocketFactory'> = {},
): WebSocketUplink {
  const problem = checkRelayUrl(url);
  if (problem) throw new RangeError(problem);
  const sw = registry.bridge(bridge);
  if (relayed.has(sw)) throw new Error(`relay: bridge '${bridge}' already has a relay`);
  // Made without DHCP if new; if it already existed, its DHCP port is unbound.
  builtInGateway(sw, { dhcp: false }).unbind(DHCP_SERVER_PORT);
  const uplink = WebSocketUplink.attach(sw, { ...options, url, webSocketFactory });
  relayed.set(sw, uplink);
  return uplink;
}

/** True when `sw` goes out through a relay, whose network then gives out the addresses. */
export function bridgeHasRelay(sw: VirtualSwitch): boolean {
  return relayed.has(sw);
}

/** The uplink of a relayed bridge (for its counters), if any. */
export function relayOf(sw: VirtualSwitch): WebSocketUplink | undefined {
  return relayed.get(sw);
}
