import { afterEach, describe, expect, it } from 'vitest';
import { BroadcastChannelLink, CHANNEL_PREFIX } from '../../src/net/broadcast-channel-link.ts';
import { BROADCAST_MAC, buildEthernet } from '../../src/net/ethernet.ts';
import type { NetworkPort } from '../../src/net/network-port.ts';
import { VirtualSwitch } from '../../src/net/virtual-switch.ts';

const mac = (n: number) => new Uint8Array([0x00, 0x16, 0x3e, 0, 0, n]);
const frame = (to: Uint8Array, from: Uint8Array, tag: number) => buildEthernet(to, from, 0x88b5, new Uint8Array([tag]));
const settle = () => new Promise((r) => setTimeout(r, 50));

/** One "tab": a switch for the bridge, a link to the channel, and a host recording what it gets. */
function tab(bridge: string, hostMac: number) {
  const sw = new VirtualSwitch(bridge);
  const link = new BroadcastChannelLink(sw);
  const host: NetworkPort = sw.connect('card');
  const got: number[] = [];
  host.onReceive = (f) => got.push(f[14]);
  links.push(link);
  return { sw, link, host, mac: mac(hostMac), got };
}

let links: BroadcastChannelLink[] = [];
afterEach(() => {
  for (const l of links) l.close();
  links = [];
});

describe('BroadcastChannel link between tabs', () => {
  it('carries broadcast and unicast between switches of the same bridge name, and not to other bridges', async () => {
    const a = tab('xenbr0', 1);
    const b = tab('xenbr0', 2);
    const other = tab('xenbr1', 3);
    a.host.send(frame(BROADCAST_MAC, a.mac, 1));
    await settle();
    expect(b.got).toEqual([1]);
    expect(other.got).toEqual([]);
    // b's switch learned a's address behind the link: a reply goes straight back.
    b.host.send(frame(a.mac, b.mac, 2));
    await settle();
    expect(a.got).toEqual([2]);
    expect(b.sw.stats.forwarded).toBe(1);
  });

  it('does not loop: with three tabs every frame arrives exactly once in each other tab', async () => {
    const a = tab('loop', 1);
    const b = tab('loop', 2);
    const c = tab('loop', 3);
    a.host.send(frame(BROADCAST_MAC, a.mac, 7));
    await settle();
    expect([a.got, b.got, c.got]).toEqual([[], [7], [7]]);
    expect(a.link.stats.posted).toBe(1);
    expect(b.link.stats.posted + c.link.stats.posted).toBe(0);
  });

  it('ignores channel messages that are not frames, and stops after close', async () => {
    const a = tab('junk', 1);
    const stranger = new BroadcastChannel(CHANNEL_PREFIX + 'junk');
    stranger.postMessage('hello');
    stranger.postMessage(new Uint8Array(3));
    stranger.postMessage(new Uint8Array(2000));
    await settle();
    expect(a.link.stats.malformed).toBe(3);
    expect(a.got).toEqual([]);
    a.link.close();
    stranger.postMessage(frame(BROADCAST_MAC, mac(9), 5));
    await settle();
    expect(a.got).toEqual([]);
    expect(a.sw.portNames()).toEqual(['card']);
    stranger.close();
  });
});
