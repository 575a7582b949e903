import { describe, expect, it } from 'vitest';
import { CONNECT_TIMEOUT_MS, INITIAL_RTO_MS, LINGER_MS, MAX_RETRANSMISSIONS } from '../../src/net/tcp-nat-connection.ts';
import type { HostTcpEvents, HostTcpSocket, NatTimers } from '../../src/net/tcp-nat-host.ts';
import { buildTcp, parseTcp, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type TcpSegment } from '../../src/net/tcp-nat-segment.ts';
import { TcpNat } from '../../src/net/tcp-nat.ts';

const GUEST = 0x0a000310; // 10.0.3.16
const REMOTE = 0xc0000201; // 192.0.2.1
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** Timers run by hand: `advance(ms)` fires what falls due, in order. */
class ManualTimers implements NatTimers {
  now = 0;
  private next = 1;
  private readonly pending = new Map<number, { at: number; callback: () => void }>();
  set(callback: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { at: this.now + ms, callback });
    return id;
  }
  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.now = due[1].at;
      due[1].callback();
    }
    this.now = end;
  }
}

/** A host-side socket the test drives: it records what the NAT writes and plays the remote peer. */
class FakeHostSocket implements HostTcpSocket {
  written: number[] = [];
  ended = false;
  destroyed = false;
  paused = false;
  pendingBytes = 0;
  constructor(readonly address: number, readonly port: number, readonly events: HostTcpEvents) {}
  write(data: Uint8Array): void {
    this.written.push(...data);
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
}

function setup(options: { hostAddressFor?: (a: number) => number | undefined } = {}) {
  const timers = new ManualTimers();
  const hosts: FakeHostSocket[] = [];
  const toGuest: TcpSegment[] = [];
  const nat = new TcpNat({
    connect: (address, port, events) => {
      const s = new FakeHostSocket(address, port, events);
      hosts.push(s);
      return s;
    },
    hostAddressFor: options.hostAddressFor ?? ((a) => a),
    timers,
    // Through the wire format and back, so checksums and options are exercised too.
    emit: (from, to, segment) => {
      expect(to).toEqual({ address: GUEST, port: 40000 });
      toGuest.push(parseTcp(buildTcp(from.address, to.address, segment), from.address, to.address)!);
    },
  });
  let seq = 1000;
  const guest = {
    send(flags: number, payload = new Uint8Array(0), o: Partial<TcpSegment> = {}) {
      const s: TcpSegment = { sourcePort: 40000, destinationPort: 80, sequence: seq, acknowledgement: o.acknowledgement ?? 0, flags, window: o.window ?? 8192, payload, ...o };
      nat.receive(GUEST, REMOTE, parseTcp(buildTcp(GUEST, REMOTE, s), GUEST, REMOTE)!);
      if (o.sequence === undefined) seq = (seq + payload.length + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0)) >>> 0;
    },
    get seq() {
      return seq;
    },
  };
  const take = () => toGuest.splice(0);
  return { nat, timers, hosts, guest, take };
}

/** SYN, the host connects, SYN-ACK, ACK: an established connection. */
function established(o: { window?: number } = {}) {
  const t = setup();
  t.guest.send(TCP_SYN, new Uint8Array(0), { mss: 1000, window: o.window ?? 8192 });
  expect(t.take()).toEqual([]); // nothing until the host side connects
  const host = t.hosts[0];
  expect([host.address, host.port]).toEqual([REMOTE, 80]);
  host.events.onConnect();
  const [synAck] = t.take();
  expect(synAck.flags).toBe(TCP_SYN | TCP_ACK);
  expect(synAck.acknowledgement).toBe(1001);
  expect(synAck.mss).toBe(1460);
  const iss = synAck.sequence;
  t.guest.send(TCP_ACK, new Uint8Array(0), { acknowledgement: iss + 1, window: o.window ?? 8192 });
  return { ...t, host, iss };
}

describe('TCP NAT', () => {
  it('opens the host connection on SYN and answers SYN-ACK only once it connected', () => {
    const t = established();
    expect(t.take()).toEqual([]);
    expect(t.nat.size).toBe(1);
  });

  it('passes guest data to the host in order, acknowledging it', () => {
    const t = established();
    t.guest.send(TCP_ACK | TCP_PSH, text('GET / HTTP/1.0\r\n'), { acknowledgement: t.iss + 1 });
    expect(str(Uint8Array.from(t.host.written))).toBe('GET / HTTP/1.0\r\n');
    const [ack] = t.take();
    expect(ack.flags).toBe(TCP_ACK);
    expect(ack.acknowledgement).toBe(1001 + 16);
  });

  it('drops a segment past a gap with a duplicate ACK, and takes only the new part of an overlapping retransmission', () => {
    const t = established();
    const base = t.guest.seq;
    t.guest.send(TCP_ACK, text('world'), { sequence: base + 5, acknowledgement: t.iss + 1 });
    expect(t.host.written).toEqual([]);
    expect(t.take()[0].acknowledgement).toBe(base);
    t.guest.send(TCP_ACK, text('hel'), { sequence: base, acknowledgement: t.iss + 1 });
    t.guest.send(TCP_ACK, text('hello wor'), { sequence: base, acknowledgement: t.iss + 1 });
    expect(str(Uint8Array.from(t.host.written))).toBe('hello wor');
    expect(t.take().map((s) => s.acknowledgement)).toEqual([base + 3, base + 9]);
  });

  it('sends host data in MSS-sized segments within the guest window and frees it when acknowledged', () => {
    const t = established({ window: 2500 });
    t.host.events.onData(new Uint8Array(4000).fill(7));
    const sent = t.take();
    // MSS 1000 from the SYN, window 2500: 1000 + 1000 + 500, then wait.
    expect(sent.map((s) => s.payload.length)).toEqual([1000, 1000, 500]);
    expect(sent.map((s) => s.sequence - t.iss - 1)).toEqual([0, 1000, 2000]);
    t.guest.send(TCP_ACK, new Uint8Array(0), { acknowledgement: t.iss + 1 + 2500, window: 2500 });
    expect(t.take().map((s) => s.payload.length)).toEqual([1000, 500]);
  });

  it('retransmits from the oldest unacknowledged byte when the guest drops a segment', () => {
    const t = established();
    t.host.events.onData(text('abcdefgh'));
    expect(t.take().length).toBe(1);
    // The guest never saw it: after the timeout the same bytes come again.
    t.timers.advance(INITIAL_RTO_MS);
    const [again] = t.take();
    expect(str(again.payload)).toBe('abcdefgh');
    expect(again.sequence).toBe(t.iss + 1);
    // Once acknowledged, nothing more is resent.
    t.guest.send(TCP_ACK, new Uint8Array(0), { acknowledgement: t.iss + 9 });
    t.timers.advance(60_000);
    expect(t.take()).toEqual([]);
  });

  it('resets both sides when the guest never acknowledges', () => {
    const t = established();
    t.host.events.onData(text('x'));
    t.timers.advance(120_000);
    const sent = t.take();
    expect(sent.filter((s) => s.payload.length).length).toBe(1 + MAX_RETRANSMISSIONS);
    expect(sent.at(-1)!.flags & TCP_RST).toBeTruthy();
    expect(t.host.destroyed).toBe(true);
    expect(t.nat.size).toBe(0);
  });

  it('passes FINs both ways and forgets the connection after both are acknowledged', () => {
    const t = established();
    t.host.events.onData(text('bye'));
    t.host.events.onEnd();
    const [data, fin] = t.take();
    expect(str(data.payload)).toBe('bye');
    expect(fin.flags).toBe(TCP_FIN | TCP_ACK);
    expect(fin.sequence).toBe(t.iss + 4);
    t.guest.send(TCP_ACK | TCP_FIN, new Uint8Array(0), { acknowledgement: t.iss + 5 });
    expect(t.host.ended).toBe(true);
    expect(t.take()[0]).toMatchObject({ flags: TCP_ACK, acknowledgement: t.guest.seq });
    // A retransmitted FIN during the linger is acknowledged again, then the entry goes.
    t.guest.send(TCP_ACK | TCP_FIN, new Uint8Array(0), { sequence: t.guest.seq - 1, acknowledgement: t.iss + 5 });
    expect(t.take()[0]).toMatchObject({ flags: TCP_ACK, acknowledgement: t.guest.seq });
    t.timers.advance(LINGER_MS);
    expect(t.nat.size).toBe(0);
  });

  it('sends the FIN again after data when neither was acknowledged', () => {
    const t = established();
    t.host.events.onData(text('last'));
    t.host.events.onEnd();
    expect(t.take().length).toBe(2);
    t.timers.advance(INITIAL_RTO_MS);
    const again = t.take();
    expect(again.map((s) => [str(s.payload), s.flags & TCP_FIN])).toEqual([['last', 0], ['', TCP_FIN]]);
    expect(again[1].sequence).toBe(t.iss + 5);
  });

  it('answers a refused host connection with RST to the guest', () => {
    const t = setup();
    t.guest.send(TCP_SYN);
    t.hosts[0].events.onClose('ECONNREFUSED');
    const [rst] = t.take();
    expect(rst.flags & TCP_RST).toBeTruthy();
    expect(rst.acknowledgement).toBe(1001);
    expect(t.nat.size).toBe(0);
  });

  it('gives up on a host that does not connect in time', () => {
    const t = setup();
    t.guest.send(TCP_SYN);
    t.timers.advance(CONNECT_TIMEOUT_MS);
    expect(t.take()[0].flags & TCP_RST).toBeTruthy();
    expect(t.hosts[0].destroyed).toBe(true);
  });

  it('tears down the host socket on a guest RST', () => {
    const t = established();
    t.guest.send(TCP_RST, new Uint8Array(0));
    expect(t.host.destroyed).toBe(true);
    expect(t.nat.size).toBe(0);
  });

  it('resets segments for unknown connections and refuses unroutable destinations', () => {
    const t = setup({ hostAddressFor: () => undefined });
    t.guest.send(TCP_ACK, text('stray'), { acknowledgement: 5555 });
    expect(t.take()[0]).toMatchObject({ flags: TCP_RST, sequence: 5555 });
    t.guest.send(TCP_SYN);
    expect(t.take()[0]).toMatchObject({ flags: TCP_RST | TCP_ACK, acknowledgement: t.guest.seq });
    expect(t.hosts.length).toBe(0);
    expect(t.nat.stats).toMatchObject({ refused: 1, strays: 1 });
  });

  it('pauses the host while the guest is slow and advertises a smaller window while the host is', () => {
    const t = established({ window: 0 });
    t.host.events.onData(new Uint8Array(300 * 1024));
    expect(t.host.paused).toBe(true);
    // Zero window: nothing goes until a probe after the timeout.
    expect(t.take()).toEqual([]);
    t.timers.advance(INITIAL_RTO_MS);
    expect(t.take().map((s) => s.payload.length)).toEqual([1]);
    // The guest opens its window and acknowledges what it gets: the host resumes once the buffer drains below half.
    let acked = 0;
    for (let round = 0; round < 10 && t.host.paused; round++) {
      acked += t.take().reduce((n, s) => n + s.payload.length, 0);
      t.guest.send(TCP_ACK, new Uint8Array(0), { acknowledgement: t.iss + 1 + acked, window: 65535 });
    }
    expect(t.host.paused).toBe(false);
    expect(acked).toBeGreaterThan(300 * 1024 - 128 * 1024);
    t.host.pendingBytes = 60000;
    t.guest.send(TCP_ACK, text('data'), { acknowledgement: t.iss + 1 + acked, window: 0 });
    expect(t.take().at(-1)!.window).toBe(65535 - 60000);
  });
});
