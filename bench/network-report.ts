/**
 * The network bench: guest-to-guest TCP throughput and ping round trips between two Linux guests
 * on one bridge, in WebHVM (bench/network.ts) and side by side in v86 (bench/network-v86.ts,
 * interpreter only and with its JIT), with ratios. `npm run bench -- --workload network` runs it
 * through bench/run.ts; `npx tsx bench/network-report.ts` runs it alone:
 *
 *   --kib <n>      KiB sent with dd | nc (default 4096)
 *   --pings <n>    echo requests of `ping -A` (default 20)
 *   --no-v86       WebHVM only
 *   --json <file>  also write the raw figures
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { bootIsoAvailable } from './linux-boot.ts';
import { networkWebhvm, type NetworkRun } from './network.ts';
import { megabytesPerSecond, DEFAULT_PARAMS, type NetworkBenchParams } from './network-script.ts';
import { networkV86, v86NetworkAvailable } from './network-v86.ts';
import { v86Available, v86Version } from './v86.ts';

export interface NetworkBenchOptions {
  params?: NetworkBenchParams;
  noV86?: boolean;
  json?: string;
}

type Row = NetworkRun | { side: string; error: string };

const fmt = (x: number | undefined, digits = 2) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

export function formatTable(t: string[][]): string {
  const widths = t[0].map((_, i) => Math.max(...t.map((r) => r[i].length)));
  return t.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

/** Wall-clock ms per echo request of the ping phase. */
export function wallMsPerPing(r: NetworkRun): number {
  return r.pingWallMs / r.ping.transmitted;
}

/** The report's rows: figures per side. */
export function networkTable(rows: Row[]): string[][] {
  const table = [['side', 'setup s', 'bytes recv', 'xfer wall s', 'MB/s wall', 'MB/s cpu', 'guest s', 'MB/s guest', 'ping avg ms (guest)', 'wall ms/ping']];
  for (const r of rows) {
    if (!('ping' in r)) {
      table.push([r.side, ...Array(9).fill('-')]);
      continue;
    }
    table.push([
      r.side,
      fmt(r.setupSeconds, 1),
      String(r.bytesReceived),
      fmt(r.transferWallMs / 1000),
      fmt(megabytesPerSecond(r.bytesReceived, r.transferWallMs)),
      fmt(megabytesPerSecond(r.bytesReceived, r.transferCpuMs)),
      fmt(r.transferGuestSeconds),
      fmt(megabytesPerSecond(r.bytesReceived, r.transferGuestSeconds * 1000)),
      fmt(r.ping.avgMs, 3),
      fmt(wallMsPerPing(r), 1),
    ]);
  }
  return table;
}

/** Each WebHVM side against each peer: wall-clock throughput and wall time per ping (above 1 = WebHVM faster). */
export function ratioTable(rows: Row[]): string[][] {
  const done = rows.filter((r): r is NetworkRun => 'ping' in r);
  const own = done.filter((r) => r.side.startsWith('webhvm'));
  const peers = done.filter((r) => !r.side.startsWith('webhvm'));
  const table = [['WebHVM side', 'peer', 'throughput ratio', 'ping ratio']];
  for (const o of own) {
    for (const p of peers) {
      table.push([
        o.side,
        p.side,
        `${fmt(megabytesPerSecond(o.bytesReceived, o.transferWallMs) / megabytesPerSecond(p.bytesReceived, p.transferWallMs))}x`,
        `${fmt(wallMsPerPing(p) / wallMsPerPing(o))}x`,
      ]);
    }
  }
  return table;
}

export async function runNetworkBench(options: NetworkBenchOptions = {}): Promise<Row[]> {
  const params = options.params ?? DEFAULT_PARAMS;
  const progress = (line: string) => console.log(`  ${line}`);
  const missing = bootIsoAvailable();
  console.log(`\nNetwork bench: two Linux guests on one bridge (built-in gateway's DHCP), ${params.transferKiB} KiB by dd | nc, ping -A -c ${params.pings}`);
  console.log(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPUs, load average ${load()}`);
  if (missing) {
    console.log(`skipped (${missing})`);
    return [];
  }
  const rows: Row[] = [];
  const attempt = async (side: string, run: () => Promise<NetworkRun>) => {
    try {
      rows.push(await run());
    } catch (e) {
      rows.push({ side, error: (e as Error).message });
    }
  };
  await attempt('webhvm', () => networkWebhvm(params, undefined, progress));
  await attempt('webhvm-realtime', () => networkWebhvm(params, undefined, progress, true));
  const peerProblem = options.noV86 ? 'disabled with --no-v86' : v86Available() ?? v86NetworkAvailable();
  if (peerProblem) console.log(`v86 skipped: ${peerProblem}`);
  else {
    console.log(`peer: v86 ${v86Version()}, NE2000 (ne2k-pci), vmlinuz-686 + initrd-686-ne2k.gz booted directly`);
    await attempt('v86-interp', () => networkV86(true, params, undefined, progress));
    await attempt('v86-jit', () => networkV86(false, params, undefined, progress));
  }
  console.log(`\n${formatTable(networkTable(rows))}`);
  const ratios = ratioTable(rows);
  if (ratios.length > 1) console.log(`\n${formatTable(ratios)}`);
  for (const r of rows) {
    if ('error' in r) console.log(`${r.side}: FAILED: ${r.error.slice(0, 2000)}`);
    else if (r.bytesReceived !== r.bytesSent) console.log(`${r.side}: NOTE the receiver counted ${r.bytesReceived} of ${r.bytesSent} bytes`);
  }
  console.log([
    'xfer wall s: host wall-clock time from the sender printing tx-begin to the receiver printing its byte count (wc -c after nc -l);',
    'MB/s = bytes received / that time (1 MB = 10^6 bytes); "cpu" uses the CPU time of this Node process over the same interval;',
    "guest s: busybox time's real seconds of the sender's dd | nc in guest time (WebHVM's guest time is virtual: instruction-count based);",
    'ping avg ms: the guest\'s own round-trip average (guest time); wall ms/ping: host wall time of the ping -A run / requests sent.',
    'webhvm: guest time virtual, as in webhvm run; webhvm-realtime: guest time follows the host clock, as in the page.',
    'Ratios: WebHVM MB/s / peer MB/s and peer wall ms per ping / WebHVM\'s (above 1 = WebHVM faster).',
    `Load average at the end: ${load()}.`,
  ].join('\n'));
  if (options.json) writeFileSync(options.json, JSON.stringify({ node: process.version, cpus: cpus().length, params, rows }, null, 2));
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      kib: { type: 'string', default: String(DEFAULT_PARAMS.transferKiB) },
      pings: { type: 'string', default: String(DEFAULT_PARAMS.pings) },
      'no-v86': { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  await runNetworkBench({
    params: { ...DEFAULT_PARAMS, transferKiB: Math.max(1, Number(values.kib)), pings: Math.max(1, Number(values.pings)) },
    noV86: values['no-v86'],
    json: values.json,
  });
  // v86 leaves timers behind after destroy().
  process.exit(0);
}
