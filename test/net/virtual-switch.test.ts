import { describe, expect, it } from 'vitest';
import { buildEthernet, BROADCAST_MAC } from '../../src/net/ethernet.ts';
import { SwitchRegistry, VirtualSwitch } from '../../src/net/virtual-switch.ts';

const A = new Uint8Array([2, 0, 0, 0, 0, 0xa]);
const B = new Uint8Array([2, 0, 0, 0, 0, 0xb]);
const C = new Uint8Array([2, 0, 0, 0, 0, 0xc]);

function network() {
  const sw = new VirtualSwitch('xenbr0');
  const got: Record<string, number[]> = { a: [], b: [], c: [] };
  const ports = Object.fromEntries(['a', 'b', 'c'].map((n) => {
    const p = sw.connect(n);
    p.onReceive = (f) => got[n].push(f[14]);
    return [n, p];
  }));
  const frame = (to: Uint8Array, from: Uint8Array, tag: number) => buildEthernet(to, from, 0x88b5, new Uint8Array([tag]));
  return { sw, got, ports, frame };
}

describe('VirtualSwitch', () => {
  it('tells onActivity of every frame it passes on, not of the ones it drops', () => {
    const registry = new SwitchRegistry(() => activity++);
    let activity = 0;
    const sw = registry.bridge('xenbr1');
    const a = sw.connect('a');
    sw.connect('b');
    a.send(buildEthernet(BROADCAST_MAC, A, 0x88b5, new Uint8Array([1])));
    a.send(new Uint8Array(6)); // a runt: dropped
    expect(activity).toBe(1);
    expect(sw.stats.dropped).toBe(1);
  });

  it('floods unknown unicast and broadcast, never back to the sender', () => {
    const { ports, got, frame, sw } = network();
    ports.a.send(frame(B, A, 1));
    ports.a.send(frame(BROADCAST_MAC, A, 2));
    expect(got).toEqual({ a: [], b: [1, 2], c: [1, 2] });
    expect(sw.stats.flooded).toBe(2);
  });

  it('learns source addresses and forwards known unicast to one port only', () => {
    const { ports, got, frame, sw } = network();
    ports.b.send(frame(BROADCAST_MAC, B, 1)); // the switch learns B behind port b
    ports.a.send(frame(B, A, 2));
    expect(got.b).toEqual([2]);
    expect(got.c).toEqual([1]);
    ports.b.send(frame(A, B, 3)); // and A behind port a
    expect(got.a).toEqual([1, 3]);
    expect(got.c).toEqual([1]);
    expect(sw.stats.forwarded).toBe(2);
    // A station that moves is relearned from its next frame.
    ports.c.send(frame(BROADCAST_MAC, A, 4));
    ports.b.send(frame(A, B, 5));
    expect(got.c).toEqual([1, 5]);
    expect(got.a).toEqual([1, 3, 4]); // the broadcast, but not frame 5
  });

  it('drops frames of impossible size', () => {
    const { ports, got, frame, sw } = network();
    ports.a.send(frame(C, A, 1));
    ports.a.send(new Uint8Array(10));
    ports.a.send(new Uint8Array(2000));
    expect(sw.stats.dropped).toBe(2);
    expect(got).toEqual({ a: [], b: [1], c: [1] });
  });

  it('stops delivering to and from a disconnected port', () => {
    const { ports, got, frame, sw } = network();
    ports.c.send(frame(BROADCAST_MAC, C, 1));
    sw.disconnect(ports.c);
    ports.a.send(frame(C, A, 2)); // C forgotten: flooded to b only
    ports.c.send(frame(A, C, 3));
    expect(got.c).toEqual([]);
    expect(got.b).toEqual([1, 2]);
    expect(got.a).toEqual([1]);
    expect(sw.portNames()).toEqual(['a', 'b']);
  });

  it('gives one switch per bridge name', () => {
    const r = new SwitchRegistry();
    expect(r.bridge('xenbr0')).toBe(r.bridge('xenbr0'));
    expect(r.bridge('virbr0')).not.toBe(r.bridge('xenbr0'));
    expect(r.names()).toEqual(['xenbr0', 'virbr0']);
  });
});
