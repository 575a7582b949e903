// The network bench's script against fake busybox consoles: what it types and when, how it reads
// the markers, and the arithmetic of the figures.
import { describe, expect, it } from 'vitest';
import {
  bytesPerSecond, megabytesPerSecond, NetworkBenchScript, parseBusyboxTime, parseLease, parsePingSummary, parseReceived,
  type GuestConsole, type NetworkBenchParams,
} from '../../bench/network-script.ts';

/** A console that echoes what is typed (as the shell does, `$?` unexpanded) and records it. */
class FakeConsole implements GuestConsole {
  out = '';
  typed: string[] = [];
  text = () => this.out;
  type(line: string): void {
    this.typed.push(line);
    this.out += line.replace(/\n/g, '\r\n');
  }
  print(s: string): void {
    this.out += s;
  }
}

const PARAMS: NetworkBenchParams = { transferKiB: 100, pings: 3, port: 6001 };
const BOOTED = 'Linux ...\r\nWEBHVM-GUEST-READY\r\nuname-r: 6.1\r\n/ # ';
const PING_OUT = 'PING 10.0.2.16 (10.0.2.16): 56 data bytes\r\n64 bytes from 10.0.2.16: seq=0 ttl=64 time=1.250 ms\r\n\r\n' +
  '--- 10.0.2.16 ping statistics ---\r\n3 packets transmitted, 3 packets received, 0% packet loss\r\nround-trip min/avg/max = 0.500/1.250/2.000 ms\r\n';

/** Runs the guests' side of a whole session, `now` advancing by the given steps. */
function session(options: { receiverBytes?: number; dhcpExit?: number } = {}) {
  const sender = new FakeConsole();
  const receiver = new FakeConsole();
  const script = new NetworkBenchScript(sender, receiver, PARAMS);
  let now = 1000;
  // The process gets half of the host's time in this fake.
  const step = (ms = 0) => script.step((now += ms), now / 2);
  step();
  expect(sender.typed).toEqual([]);
  sender.print(BOOTED);
  step();
  expect(sender.typed.length).toBe(1);
  expect(sender.typed[0]).toContain('/tmp/dhcp.sh');
  sender.print('/ # ');
  step();
  expect(sender.typed[1]).toMatch(/^ifconfig eth0 up; udhcpc -i eth0 -s \/tmp\/dhcp.sh/);
  // The echo of the typed line ends in dhcp-exit-$?, which is no marker.
  step();
  expect(sender.typed.length).toBe(2);
  sender.print(`lease of 10.0.2.15 obtained\r\nlease=10.0.2.15\r\ndhcp-exit-${options.dhcpExit ?? 0}\r\n/ # `);
  step();
  if (options.dhcpExit) return { script, sender, receiver, step };
  // The receiver had not booted: nothing typed to it yet.
  expect(receiver.typed).toEqual([]);
  receiver.print(BOOTED);
  step();
  receiver.print('/ # ');
  step();
  expect(script.leased).toBe(false);
  receiver.print('lease=10.0.2.16\r\ndhcp-exit-0\r\n/ # ');
  step();
  expect(script.leased).toBe(true);
  expect(receiver.typed[2]).toBe('(nc -l -p 6001 | wc -c; echo rx-exit-$?) & sleep 1; echo rx-ready-$?\n');
  expect(sender.typed.length).toBe(2);
  receiver.print('/ # rx-ready-0\r\n/ # ');
  step();
  expect(sender.typed[2]).toBe("echo tx-begin-$?; time sh -c 'dd if=/dev/zero bs=1024 count=100 2>/dev/null | nc 10.0.2.16 6001'; echo tx-exit-$?\n");
  step(5);
  sender.print('tx-begin-0\r\n');
  step(10); // tx-begin seen at 1015
  receiver.print(`${options.receiverBytes ?? 102400}\r\nrx-exit-0\r\n`);
  step(2000); // the byte count seen at 3015
  sender.print('real\t0m 1.75s\r\nuser\t0m 0.10s\r\nsys\t0m 0.50s\r\ntx-exit-0\r\n/ # ');
  step(30);
  expect(sender.typed[3]).toBe('echo ping-begin-$?; ping -A -c 3 10.0.2.16; echo ping-exit-$?\n');
  sender.print('ping-begin-0\r\n');
  step(10); // 3055
  sender.print(PING_OUT);
  step(100);
  expect(script.done).toBe(false);
  sender.print('ping-exit-0\r\n/ # ');
  step(400); // 3555
  return { script, sender, receiver, step };
}

describe('NetworkBenchScript', () => {
  it('leases both addresses, sends, pings, and measures host time between the markers', () => {
    const { script } = session();
    expect(script.failure).toBeUndefined();
    expect(script.done).toBe(true);
    expect(script.result()).toEqual({
      senderAddress: '10.0.2.15',
      receiverAddress: '10.0.2.16',
      bytesSent: 102400,
      bytesReceived: 102400,
      transferWallMs: 2000,
      transferCpuMs: 1000,
      transferGuestSeconds: 1.75,
      pingWallMs: 500,
      pingCpuMs: 250,
      ping: { transmitted: 3, received: 3, minMs: 0.5, avgMs: 1.25, maxMs: 2 },
    });
  });

  it('reports a short transfer as counted, not as sent', () => {
    const { script } = session({ receiverBytes: 65536 });
    expect(script.result().bytesReceived).toBe(65536);
  });

  it('fails, and stops typing, when udhcpc fails', () => {
    const { script, sender, receiver } = session({ dhcpExit: 1 });
    expect(script.failure).toMatch(/sender: udhcpc exited with 1/);
    expect(script.done).toBe(false);
    expect(() => script.result()).toThrow(/udhcpc exited with 1/);
    expect(sender.typed.length).toBe(2);
    receiver.print(BOOTED);
    script.step(9999);
    expect(receiver.typed).toEqual([]);
  });
});

describe('network bench parsing', () => {
  it('reads the last lease, busybox time, ping statistics and the byte count', () => {
    expect(parseLease('lease=10.0.2.15\r\nlease=10.0.2.17\r\n')).toBe('10.0.2.17');
    expect(parseLease('lease=$ip')).toBeUndefined();
    expect(parseBusyboxTime('real\t0m 12.34s\nuser\t0m 0.00s')).toBeCloseTo(12.34, 6);
    expect(parseBusyboxTime('real\t1h 2m 3.50s')).toBeCloseTo(3723.5, 6);
    expect(parseBusyboxTime('user\t0m 1.00s')).toBeUndefined();
    expect(parsePingSummary(PING_OUT)).toEqual({ transmitted: 3, received: 3, minMs: 0.5, avgMs: 1.25, maxMs: 2 });
    expect(parsePingSummary('3 packets transmitted, 0 packets received, 100% packet loss')).toBeUndefined();
    expect(parseReceived('/ # 4194304\r\nrx-exit-0')).toEqual({ bytes: 4194304, status: 0 });
    expect(parseReceived('wc -c; echo rx-exit-$?')).toBeUndefined();
  });

  it('computes rates per second of the measured milliseconds', () => {
    expect(bytesPerSecond(4_194_304, 2000)).toBe(2_097_152);
    expect(megabytesPerSecond(4_000_000, 500)).toBe(8);
    expect(bytesPerSecond(1, 0)).toBeNaN();
  });
});
