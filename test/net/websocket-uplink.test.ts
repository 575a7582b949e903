import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BROADCAST_MAC, buildEthernet } from '../../src/net/ethernet.ts';
import { attachRelay, bridgeHasRelay, checkRelayUrl } from '../../src/net/relay-attach.ts';
import { SwitchRegistry } from '../../src/net/virtual-switch.ts';
import type { WebSocketLike } from '../../src/net/websocket-uplink.ts';

/** A WebSocket the test opens, feeds and closes by hand. */
class FakeSocket implements WebSocketLike {
  binaryType = 'blob';
  readyState = 0;
  sent: Uint8Array[] = [];
  closedWith: number | undefined;
  onopen: ((e: unknown) => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: ArrayBuffer | ArrayBufferView | string): void {
    this.sent.push(new Uint8Array((data as Uint8Array).slice()));
  }
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop(): void {
    this.readyState = 3;
    this.onclose?.({ code: 1006, reason: '', wasClean: false });
  }
}

const frame = (tag: number) => buildEthernet(BROADCAST_MAC, new Uint8Array([0, 0x16, 0x3e, 0, 0, 1]), 0x88b5, new Uint8Array([tag]));

function setup() {
  const sockets: FakeSocket[] = [];
  const registry = new SwitchRegistry();
  const uplink = attachRelay(registry, 'xenbr0', 'ws://127.0.0.1:8086/', (url) => {
    const s = new FakeSocket(url);
    sockets.push(s);
    return s;
  }, { reconnectDelayMs: 1000, queueLimit: 3 });
  const card = registry.bridge('xenbr0').connect('card');
  const got: number[] = [];
  card.onReceive = (f) => got.push(f[14]);
  return { registry, uplink, sockets, card, got };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('WebSocket uplink', () => {
  it('sends each frame as one binary message and delivers each message as one frame', () => {
    const t = setup();
    expect(t.sockets[0].binaryType).toBe('arraybuffer');
    t.sockets[0].open();
    t.card.send(frame(1));
    expect(t.sockets[0].sent).toEqual([frame(1)]);
    t.sockets[0].onmessage!({ data: frame(2).buffer });
    expect(t.got).toEqual([2]);
    expect(t.uplink.stats).toMatchObject({ sent: 1, received: 1 });
  });

  it('keeps the newest frames while connecting and sends them once open', () => {
    const t = setup();
    for (let i = 1; i <= 5; i++) t.card.send(frame(i));
    t.sockets[0].open();
    expect(t.sockets[0].sent.map((f) => f[14])).toEqual([3, 4, 5]);
    expect(t.uplink.stats.droppedOutgoing).toBe(2);
  });

  it('drops messages that are not frames', () => {
    const t = setup();
    t.sockets[0].open();
    t.sockets[0].onmessage!({ data: 'text' });
    t.sockets[0].onmessage!({ data: new ArrayBuffer(4) });
    t.sockets[0].onmessage!({ data: new ArrayBuffer(1600) });
    expect(t.got).toEqual([]);
    expect(t.uplink.stats.droppedIncoming).toBe(3);
  });

  it('reconnects after the relay goes away, dropping frames meanwhile, and stops on close', () => {
    const t = setup();
    t.sockets[0].open();
    t.sockets[0].drop();
    t.card.send(frame(1));
    expect(t.uplink.stats.droppedOutgoing).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(t.sockets.length).toBe(2);
    t.sockets[1].open();
    t.card.send(frame(2));
    expect(t.sockets[1].sent.map((f) => f[14])).toEqual([2]);
    expect(t.uplink.stats.connections).toBe(2);
    t.uplink.close();
    expect(t.sockets[1].closedWith).toBe(1000);
    vi.advanceTimersByTime(10_000);
    expect(t.sockets.length).toBe(2);
  });

  it('marks the bridge as relayed and refuses bad URLs and a second relay', () => {
    const t = setup();
    expect(bridgeHasRelay(t.registry.bridge('xenbr0'))).toBe(true);
    expect(bridgeHasRelay(t.registry.bridge('other'))).toBe(false);
    expect(() => attachRelay(t.registry, 'xenbr0', 'ws://x/', () => new FakeSocket('x'))).toThrow(/already has a relay/);
    expect(checkRelayUrl('http://example.org/')).toMatch(/ws:\/\//);
    expect(checkRelayUrl('not a url')).toMatch(/not a URL/);
    expect(checkRelayUrl('wss://relay.widgetry.org/')).toBeUndefined();
  });
});

describe('attachRelay and the built-in gateway', () => {
  it('leaves the relay as the only DHCP server on the bridge, whether the gateway came first or not', async () => {
    const { builtInGateway } = await import('../../src/net/gateway.ts');
    const { buildDhcp, DHCP_DISCOVER, OPTION_MESSAGE_TYPE } = await import('../../src/net/dhcp.ts');
    const { udpFrame } = await import('../net/helpers.ts');
    const discover = udpFrame({
      source: 0, destination: 0xffffffff, sourcePort: 68, destinationPort: 67,
      payload: buildDhcp({ op: 1, xid: 1, secs: 0, flags: 0, ciaddr: 0, yiaddr: 0, siaddr: 0, giaddr: 0, chaddr: new Uint8Array([0, 0x16, 0x3e, 1, 2, 3]), file: '', options: new Map([[OPTION_MESSAGE_TYPE, new Uint8Array([DHCP_DISCOVER])]]) }),
    });
    for (const gatewayFirst of [false, true]) {
      const registry = new SwitchRegistry();
      if (gatewayFirst) builtInGateway(registry.bridge('xenbr0'));
      const sockets: FakeSocket[] = [];
      attachRelay(registry, 'xenbr0', 'ws://127.0.0.1:8086/', (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      });
      sockets[0].open();
      const card = registry.bridge('xenbr0').connect('card');
      const got: Uint8Array[] = [];
      card.onReceive = (f) => got.push(f.slice());
      card.send(discover);
      // The DISCOVER went to the relay; nothing on the bridge answered it.
      expect(sockets[0].sent.length).toBe(1);
      expect(got).toEqual([]);
      expect(builtInGateway(registry.bridge('xenbr0')).stats.udpDelivered).toBe(0);
    }
  });
});
