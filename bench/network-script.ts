/**
 * The network bench's guest side, independent of the emulator: what the two Linux guests (busybox)
 * are told to type on their serial consoles, which lines of output are the markers, and what the
 * figures are. The sender pipes `dd if=/dev/zero` into `nc` to the receiver's `nc -l`, which
 * counts the bytes with `wc -c`; then the sender pings the receiver with `ping -A` (the next echo
 * as soon as the reply is in). Host times are taken when a marker is first seen in the serial
 * output (the driver calls `step` between its batches, so they are as fine as its batches).
 *
 * Every marker is printed with `$?` (`tx-begin-$?`): the terminal's echo of the typed line holds
 * `$?` and only the command's output holds the digits, so the echo never matches a marker.
 */

export interface NetworkBenchParams {
  /** Bytes sent = transferKiB * 1024 (dd bs=1024). */
  transferKiB: number;
  /** Echo requests of the ping phase. */
  pings: number;
  /** The receiver's TCP port. */
  port: number;
}

export const DEFAULT_PARAMS: NetworkBenchParams = { transferKiB: 4096, pings: 20, port: 5001 };

/** A guest's serial console as the script sees it. */
export interface GuestConsole {
  /** COM1 output so far. */
  text(): string;
  /** Types on COM1. */
  type(line: string): void;
}

export interface RoundTrip {
  transmitted: number;
  received: number;
  minMs: number;
  avgMs: number;
  maxMs: number;
}

export interface NetworkMeasurement {
  senderAddress: string;
  receiverAddress: string;
  bytesSent: number;
  /** What the receiver's `wc -c` counted. */
  bytesReceived: number;
  /** Host ms from the sender's tx-begin marker to the receiver's byte count. */
  transferWallMs: number;
  /** `time`'s real seconds of the sender's dd | nc, in guest time (nc exits once the receiver closed). */
  transferGuestSeconds: number;
  /** The same interval in CPU time of the host process (user + system, all threads). */
  transferCpuMs: number;
  /** Host ms from the sender's ping-begin marker to its ping-exit marker. */
  pingWallMs: number;
  pingCpuMs: number;
  /** The guest's own summary line. */
  ping: RoundTrip;
}

/** busybox udhcpc applies the lease through a script; this one prints `lease=<address>`. */
export const DHCP_SCRIPT = `printf '#!/bin/sh\\n[ "$1" = bound ] && ifconfig $interface $ip netmask $subnet && echo "lease=$ip"\\n' >/tmp/dhcp.sh; chmod +x /tmp/dhcp.sh\n`;
export const DHCP_COMMAND = 'ifconfig eth0 up; udhcpc -i eth0 -s /tmp/dhcp.sh -q -n -t 5 -T 2; echo dhcp-exit-$?\n';
const READY = 'WEBHVM-GUEST-READY';
const PROMPT = '/ # ';

export function listenCommand(p: NetworkBenchParams): string {
  // In the background so the shell can say when nc is (very likely) listening: a second later.
  return `(nc -l -p ${p.port} | wc -c; echo rx-exit-$?) & sleep 1; echo rx-ready-$?\n`;
}

export function sendCommand(p: NetworkBenchParams, peer: string): string {
  return `echo tx-begin-$?; time sh -c 'dd if=/dev/zero bs=1024 count=${p.transferKiB} 2>/dev/null | nc ${peer} ${p.port}'; echo tx-exit-$?\n`;
}

export function pingCommand(p: NetworkBenchParams, peer: string): string {
  return `echo ping-begin-$?; ping -A -c ${p.pings} ${peer}; echo ping-exit-$?\n`;
}

/** The address the DHCP script printed last, if any. */
export function parseLease(text: string): string | undefined {
  const all = [...text.matchAll(/lease=(\d+\.\d+\.\d+\.\d+)/g)];
  return all.length ? all[all.length - 1][1] : undefined;
}

/** Seconds of busybox `time`'s "real" line: `real\t0m 1.23s` or `real\t1h 2m 3.45s`. */
export function parseBusyboxTime(text: string): number | undefined {
  const m = /real\s+(?:(\d+)h\s*)?(\d+)m\s+(\d+(?:\.\d+)?)s/.exec(text);
  return m ? Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
}

/** busybox ping's statistics: "N packets transmitted, M packets received" and "round-trip min/avg/max = a/b/c ms". */
export function parsePingSummary(text: string): RoundTrip | undefined {
  const counts = /(\d+) packets transmitted, (\d+) packets received/.exec(text);
  const rtt = /round-trip min\/avg\/max = ([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(text);
  if (!counts || !rtt) return undefined;
  return { transmitted: Number(counts[1]), received: Number(counts[2]), minMs: Number(rtt[1]), avgMs: Number(rtt[2]), maxMs: Number(rtt[3]) };
}

/** The receiver's byte count and exit status: `wc -c`'s number, then `rx-exit-N`. */
export function parseReceived(text: string): { bytes: number; status: number } | undefined {
  const m = /(\d+)\s+rx-exit-(\d+)/.exec(text);
  return m ? { bytes: Number(m[1]), status: Number(m[2]) } : undefined;
}

/** Bytes per second over `ms` milliseconds (NaN when no time passed). */
export function bytesPerSecond(bytes: number, ms: number): number {
  return ms > 0 ? (bytes * 1000) / ms : NaN;
}

/** Decimal megabytes per second, as dd and iperf print them (1 MB = 10^6 bytes). */
export function megabytesPerSecond(bytes: number, ms: number): number {
  return bytesPerSecond(bytes, ms) / 1e6;
}

type Who = 'sender' | 'receiver';
type Mark = 'txBegin' | 'rxEnd' | 'pingBegin' | 'pingEnd';
interface Step {
  who: Who;
  /** Matched against that guest's output since the last line typed to it. */
  after: RegExp;
  /** Fails the run when it returns a message. */
  check?: (m: RegExpExecArray, text: string) => string | undefined;
  send?: () => string;
}

/**
 * The scripted session of one sender and one receiver. Call `step(now)` whenever the guests may
 * have printed something; it types the next line once its condition holds. `failure` says why
 * the run cannot succeed (a command failed); `done` once every figure is in.
 */
export class NetworkBenchScript {
  failure: string | undefined;
  private readonly steps: Step[];
  private readonly typedAt: Record<Who, number> = { sender: -1, receiver: -1 };
  private readonly guests: Record<Who, GuestConsole>;
  private readonly times: Partial<Record<Mark, number>> = {};
  private readonly cpuTimes: Partial<Record<Mark, number>> = {};
  private readonly found: Partial<NetworkMeasurement> = {};

  constructor(sender: GuestConsole, receiver: GuestConsole, readonly params: NetworkBenchParams = DEFAULT_PARAMS) {
    this.guests = { sender, receiver };
    const prompt = /\/ # /;
    const exitZero = (what: string) => (m: RegExpExecArray, text: string) => (m[1] === '0' ? undefined : `${what} exited with ${m[1]}:\n${text.slice(-1200)}`);
    const leased = (who: Who) => (_m: RegExpExecArray, text: string) => {
      const address = parseLease(text);
      if (!address) return `${who}: udhcpc succeeded but the script printed no lease:\n${text.slice(-1200)}`;
      this.found[who === 'sender' ? 'senderAddress' : 'receiverAddress'] = address;
      return undefined;
    };
    const dhcp = (who: Who): Step[] => [
      { who, after: new RegExp(`${READY}[\\s\\S]*${prompt.source}`), send: () => DHCP_SCRIPT },
      { who, after: prompt, send: () => DHCP_COMMAND },
      { who, after: new RegExp(`dhcp-exit-(\\d+)[\\s\\S]*${prompt.source}`), check: (m, t) => exitZero(`${who}: udhcpc`)(m, t) ?? leased(who)(m, t) },
    ];
    this.steps = [
      ...dhcp('sender'),
      ...dhcp('receiver'),
      { who: 'receiver', after: /$/, send: () => listenCommand(params) },
      { who: 'receiver', after: /rx-ready-(\d+)/, check: exitZero('receiver: listen') },
      { who: 'sender', after: /$/, send: () => sendCommand(params, this.found.receiverAddress!) },
      { who: 'sender', after: /tx-begin-\d+/, check: () => this.mark('txBegin') },
      {
        who: 'receiver', after: /(\d+)\s+rx-exit-(\d+)/, check: (_m, text) => {
          this.mark('rxEnd');
          const r = parseReceived(text)!;
          this.found.bytesReceived = r.bytes;
          return r.status === 0 ? undefined : `receiver: nc | wc exited with ${r.status}`;
        },
      },
      {
        who: 'sender', after: /tx-exit-(\d+)[\s\S]*\/ # /, check: (m, text) => {
          const seconds = parseBusyboxTime(text);
          if (seconds === undefined) return `sender: no 'real' line from time:\n${text.slice(-1200)}`;
          this.found.transferGuestSeconds = seconds;
          return exitZero('sender: dd | nc')(m, text);
        },
      },
      { who: 'sender', after: /$/, send: () => pingCommand(params, this.found.receiverAddress!) },
      { who: 'sender', after: /ping-begin-\d+/, check: () => this.mark('pingBegin') },
      {
        who: 'sender', after: /ping-exit-(\d+)/, check: (m, text) => {
          this.mark('pingEnd');
          const summary = parsePingSummary(text);
          if (!summary) return `sender: no ping statistics:\n${text.slice(-1200)}`;
          this.found.ping = summary;
          return exitZero('sender: ping')(m, text);
        },
      },
    ];
  }

  get done(): boolean {
    return this.steps.length === 0 && !this.failure;
  }

  /** True once both guests applied their leases. */
  get leased(): boolean {
    return this.found.senderAddress !== undefined && this.found.receiverAddress !== undefined;
  }

  /** Which guest the script waits for, and for what (progress output). */
  get stage(): string {
    const next = this.steps[0];
    return next ? `${next.who} waiting for ${next.after.source.slice(0, 24)}` : 'done';
  }

  private now = 0;
  private cpuNow = 0;
  private mark(name: Mark): undefined {
    this.times[name] = this.now;
    this.cpuTimes[name] = this.cpuNow;
    return undefined;
  }

  /** Advances as far as the output allows; `now` is the host's wall-clock time in ms, `cpuNow` its process CPU time in ms. */
  step(now: number, cpuNow = now): void {
    this.now = now;
    this.cpuNow = cpuNow;
    while (!this.failure && this.steps.length) {
      const s = this.steps[0];
      const guest = this.guests[s.who];
      const text = guest.text();
      const since = text.slice(Math.max(0, this.typedAt[s.who]));
      const m = s.after.exec(since);
      if (!m) return;
      this.steps.shift();
      const problem = s.check?.(m, since);
      if (problem) {
        this.failure = problem;
        return;
      }
      if (s.send) {
        this.typedAt[s.who] = text.length;
        guest.type(s.send());
      }
    }
  }

  /** The figures, once `done`. */
  result(): NetworkMeasurement {
    if (!this.done) throw new Error(this.failure ?? `the network bench is not finished (${this.stage})`);
    const t = this.times as Record<Mark, number>;
    const c = this.cpuTimes as Record<Mark, number>;
    return {
      ...(this.found as Pick<NetworkMeasurement, 'senderAddress' | 'receiverAddress' | 'bytesReceived' | 'transferGuestSeconds' | 'ping'>),
      bytesSent: this.params.transferKiB * 1024,
      transferWallMs: t.rxEnd - t.txBegin,
      transferCpuMs: c.rxEnd - c.txBegin,
      pingWallMs: t.pingEnd - t.pingBegin,
      pingCpuMs: c.pingEnd - c.pingBegin,
    };
  }
}
