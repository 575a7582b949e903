import { afterEach, describe, expect, it } from 'vitest';
import { buildArp, parseArp, ARP_REPLY, ARP_REQUEST } from '../../src/net/arp.ts';
import { BROADCAST_MAC, buildEthernet, ETHERTYPE_ARP } from '../../src/net/ethernet.ts';
import { builtInGateway } from '../../src/net/gateway.ts';
import { parseIpv4Address } from '../../src/net/ipv4.ts';
import { TabNetwork, type LockManagerLike } from '../../src/worker/tab-network.ts';

const settle = () => new Promise((r) => setTimeout(r, 50));
let bridgeCount = 0;
/** A bridge name of its own per test, so real BroadcastChannels of other tests never mix in. */
const freshBridge = () => `tabs-test-${process.pid}-${++bridgeCount}`;

/** The Web Locks of one origin, shared by fake tabs; a tab's locks go when it closes. */
class FakeLocks {
  private readonly holders = new Map<string, number>();
  private readonly waiting: { name: string; tab: number; callback: (lock: unknown) => unknown }[] = [];
  forTab(tab: number): LockManagerLike {
    const request = (name: string, a: unknown, b?: unknown): Promise<unknown> => {
      const ifAvailable = typeof a === 'object' && (a as { ifAvailable?: boolean }).ifAvailable === true;
      const callback = (b ?? a) as (lock: unknown) => unknown;
      if (!this.holders.has(name)) {
        this.holders.set(name, tab);
        return Promise.resolve(callback({ name }));
      }
      if (ifAvailable) return Promise.resolve(callback(null));
      this.waiting.push({ name, tab, callback });
      return new Promise(() => {});
    };
    return { request } as LockManagerLike;
  }
  closeTab(tab: number): void {
    for (const [name, holder] of [...this.holders]) {
      if (holder !== tab) continue;
      this.holders.delete(name);
      const next = this.waiting.findIndex((w) => w.name === name && w.tab !== tab);
      if (next >= 0) {
        const [w] = this.waiting.splice(next, 1);
        this.holders.set(name, w.tab);
        w.callback({ name });
      }
    }
  }
}

const GUEST_MAC = (n: number) => new Uint8Array([0x00, 0x16, 0x3e, 0, 0, n]);

/** A tab: its network, a gateway made the way Machine makes it, and a card asking ARP for 10.0.2.2. */
function tab(bridge: string, locks: LockManagerLike | undefined, n: number) {
  const network = new TabNetwork({ locks });
  networks.push(network);
  const sw = network.newRegistry().bridge(bridge);
  builtInGateway(sw);
  const card = sw.connect('card');
  const replies: string[] = [];
  card.onReceive = (frame) => {
    const arp = frame[12] === 0x08 && frame[13] === 0x06 ? parseArp(frame.subarray(14)) : undefined;
    if (arp?.operation === ARP_REPLY) replies.push([...arp.senderMac].map((b) => b.toString(16)).join(':'));
  };
  const askGateway = () => card.send(buildEthernet(BROADCAST_MAC, GUEST_MAC(n), ETHERTYPE_ARP, buildArp({
    operation: ARP_REQUEST, senderMac: GUEST_MAC(n), senderIp: parseIpv4Address(`10.0.2.${40 + n}`)!, targetMac: new Uint8Array(6), targetIp: parseIpv4Address('10.0.2.2')!,
  })));
  return { network, sw, replies, askGateway };
}

let networks: TabNetwork[] = [];
afterEach(() => {
  for (const n of networks) n.close();
  networks = [];
});

describe('the tab network: one answering gateway per bridge across tabs', () => {
  it('the first tab serves the bridge; the second tab is answered by it, once, across the channel', async () => {
    const bridge = freshBridge();
    const locks = new FakeLocks();
    const a = tab(bridge, locks.forTab(1), 1);
    const b = tab(bridge, locks.forTab(2), 2);
    await settle();
    expect(a.network.servesGateway(bridge)).toBe(true);
    expect(b.network.servesGateway(bridge)).toBe(false);
    b.askGateway();
    await settle();
    expect(b.replies).toHaveLength(1);
    a.askGateway();
    await settle();
    expect(a.replies).toHaveLength(1);
  });

  it('a waiting tab takes over when the serving tab closes', async () => {
    const bridge = freshBridge();
    const locks = new FakeLocks();
    const a = tab(bridge, locks.forTab(1), 1);
    const b = tab(bridge, locks.forTab(2), 2);
    await settle();
    a.network.close();
    locks.closeTab(1);
    b.askGateway();
    await settle();
    expect(b.network.servesGateway(bridge)).toBe(true);
    expect(b.replies).toHaveLength(1);
  });

  it('keeps serving across machines of the same tab, and unplugs the previous machine\'s switches', async () => {
    const bridge = freshBridge();
    const locks = new FakeLocks();
    const a = tab(bridge, locks.forTab(1), 1);
    await settle();
    // A new machine in tab 1: a new registry; the old switch no longer hears the channel.
    const sw2 = a.network.newRegistry().bridge(bridge);
    builtInGateway(sw2);
    const b = tab(bridge, locks.forTab(2), 2);
    await settle();
    b.askGateway();
    await settle();
    expect(b.replies).toHaveLength(1);
    expect(a.sw.stats.flooded).toBe(0);
  });

  it('without Web Locks every tab\'s gateway answers (nothing to coordinate with)', async () => {
    const bridge = freshBridge();
    const a = tab(bridge, undefined, 1);
    await settle();
    expect(a.network.servesGateway(bridge)).toBe(true);
    a.askGateway();
    expect(a.replies).toHaveLength(1);
  });
});
