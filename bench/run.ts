/**
 * `npm run bench`: guest MIPS of the fixed workloads in WebHVM's interpreter, side by side with
 * the v86 npm package (interpreter only, and with its JIT) running the same workload code, and
 * the ratios. See BENCHMARKS.md for how each side is run and for recorded results.
 *
 * Options:
 *   --workload <name>   run one workload (alu, string-copy, paging); repeatable
 *   --workload network  the guest-to-guest network bench instead (bench/network-report.ts; opt-in:
 *                       it boots eight Linux guests, two at a time)
 *   --repeats <n>       measured phases per workload (default 5; the median is reported)
 *   --scale <x>         multiply every workload's iteration count (default 1)
 *   --no-v86            WebHVM only
 *   --no-boot           skip the Linux boot-to-shell comparison (test/images/out/linux.iso)
 *   --json <file>       also write all raw phase times to a JSON file
 *   --core <file.wasm>  run WebHVM with this core instead of build/cpu.wasm (for profiling a
 *                       release build that keeps its name section; see BENCHMARKS.md)
 */
import { cpus, loadavg } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { WORKLOADS, buildWorkload, type Workload, type WorkloadResult } from './workloads.ts';
import { runWebHvm, SLICE } from './webhvm.ts';
import { runV86, v86Available, v86Version } from './v86.ts';
import { bootIsoAvailable, bootV86, bootWebhvm, type BootResult } from './linux-boot.ts';
import { runNetworkBench } from './network-report.ts';

const { values } = parseArgs({
  options: {
    workload: { type: 'string', multiple: true },
    repeats: { type: 'string', default: '5' },
    scale: { type: 'string', default: '1' },
    'no-v86': { type: 'boolean', default: false },
    'no-boot': { type: 'boolean', default: false },
    json: { type: 'string' },
    core: { type: 'string' },
  },
});

if (values.workload?.includes('network')) {
  await runNetworkBench({ noV86: values['no-v86'], json: values.json });
  process.exit(0);
}

const repeats = Math.max(1, Number(values.repeats));
const scale = Number(values.scale);
const chosen = values.workload?.length ? WORKLOADS.filter((w) => values.workload!.includes(w.name)) : WORKLOADS;
if (chosen.length === 0) throw new Error(`unknown workload; choose from ${WORKLOADS.map((w) => w.name).join(', ')}`);
const core = values.core ? new WebAssembly.Module(readFileSync(values.core)) : undefined;
const peerProblem = values['no-v86'] ? 'disabled with --no-v86' : v86Available();

type Side = 'webhvm' | 'v86-interp' | 'v86-jit';
interface Row {
  workload: Workload;
  outer: number;
  instructions: number;
  results: Partial<Record<Side, WorkloadResult>>;
  notes: string[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function medianMs(r: WorkloadResult | undefined, clock: 'ms' | 'cpuMs'): number | undefined {
  return r && r.phases.length ? median(r.phases.map((p) => p[clock])) : undefined;
}

function fmt(x: number | undefined, digits = 1): string {
  return x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}

const cpuModel = cpus()[0]?.model ?? 'unknown CPU';
console.log(`WebHVM CPU benchmark: Node ${process.version}, ${cpuModel}, ${cpus().length} CPUs`);
console.log(`WebHVM: ${values.core ?? 'build/cpu.wasm'} in a bare machine, run(${SLICE}) slices; peer: ${peerProblem ? `v86 skipped (${peerProblem})` : `v86 ${v86Version()} (SeaBIOS boot from floppy)`}`);
console.log(`${repeats} measured phases per workload and emulator; median reported; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);

const rows: Row[] = [];
for (const workload of chosen) {
  const outer = Math.max(1, Math.round(workload.outer * scale));
  const image = buildWorkload(workload, outer, repeats);
  const row: Row = { workload, outer, instructions: workload.phaseInstructions(outer), results: {}, notes: [] };
  rows.push(row);
  process.stdout.write(`${workload.name}: WebHVM`);
  const own = runWebHvm(image, { module: core });
  row.results.webhvm = own;
  if (own.stop !== 'exit' || own.phases.length !== repeats) row.notes.push(`WebHVM stopped (${own.stop}) after ${own.phases.length} phases: ${JSON.stringify(own.text)}`);
  const miscounted = own.phases.find((p) => p.counted !== row.instructions);
  if (miscounted) row.notes.push(`WebHVM's instruction counter says ${miscounted.counted} per phase (known count ${row.instructions})`);
  if (!peerProblem) {
    for (const [side, disableJit] of [['v86-interp', true], ['v86-jit', false]] as const) {
      process.stdout.write(`, ${side}`);
      try {
        const r = await runV86(image, { disableJit });
        row.results[side] = r;
        if (r.checksum !== own.checksum) row.notes.push(`${side} checksum ${r.checksum} differs from WebHVM's ${own.checksum}`);
      } catch (e) {
        row.notes.push(`${side} failed: ${(e as Error).message}`);
      }
    }
  }
  process.stdout.write('\n');
}

const sides: Side[] = ['webhvm', 'v86-interp', 'v86-jit'];
for (const [clock, title] of [['ms', 'wall-clock time between the markers'], ['cpuMs', 'CPU time of the Node process between the markers']] as const) {
  const table: string[][] = [['workload', 'instr/phase', 'WebHVM MIPS', 'v86-interp MIPS', 'v86-JIT MIPS', 'vs interp', 'vs JIT']];
  for (const row of rows) {
    const mips = sides.map((s) => {
      const ms = medianMs(row.results[s], clock);
      return ms === undefined ? undefined : row.instructions / ms / 1000;
    });
    table.push([
      row.workload.name,
      String(row.instructions),
      fmt(mips[0]),
      fmt(mips[1]),
      fmt(mips[2]),
      mips[0] && mips[1] ? `${fmt(mips[0] / mips[1], 2)}x` : '-',
      mips[0] && mips[2] ? `${fmt(mips[0] / mips[2], 3)}x` : '-',
    ]);
  }
  console.log(`\nBy ${title}:\n${formatTable(table)}`);
}

const extra: string[] = [];
for (const row of rows) {
  const bytes = row.workload.phaseBytes?.(row.outer);
  if (bytes) {
    const rates = sides.map((s) => {
      const ms = medianMs(row.results[s], 'ms');
      return ms === undefined ? '-' : `${fmt(bytes / ms / 1000)} MB/s`;
    });
    extra.push(`${row.workload.name}: ${bytes} bytes per phase; WebHVM ${rates[0]}, v86-interp ${rates[1]}, v86-JIT ${rates[2]}`);
  }
  for (const s of sides) {
    const r = row.results[s];
    if (r) extra.push(`${row.workload.name} ${s}: phases ${r.phases.map((p) => `${fmt(p.ms, 1)} ms (cpu ${fmt(p.cpuMs, 1)})`).join(', ')}; checksum ${r.checksum}`);
  }
  for (const n of row.notes) extra.push(`${row.workload.name}: NOTE ${n}`);
}
console.log('\n' + extra.join('\n'));
console.log('\nMIPS = known instructions per phase / median phase time; ratios are WebHVM / peer (above 1 = WebHVM faster).');
console.log(`Load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (other processes on the machine slow the wall-clock figures).`);
console.log('Target for the interpreter: 150 MIPS or more on alu.');

if (values.json) {
  writeFileSync(values.json, JSON.stringify({
    node: process.version, cpu: cpuModel, cpus: cpus().length, v86: peerProblem ? null : v86Version(), repeats, scale,
    workloads: rows.map((r) => ({ name: r.workload.name, outer: r.outer, instructions: r.instructions, notes: r.notes, results: r.results })),
  }, null, 2));
}
if (!values['no-boot']) {
  const missing = bootIsoAvailable();
  if (missing) console.log(`\nLinux boot-to-shell: skipped (${missing})`);
  else {
    // Wall-clock seconds from power-on to the guest's marker on COM1, one run per side.
    const boots: BootResult[] = [await bootWebhvm()];
    if (!peerProblem) {
      boots.push(await bootV86(true).catch((e) => ({ side: `v86-interp (failed: ${(e as Error).message.slice(0, 120)})`, seconds: NaN })));
      boots.push(await bootV86(false).catch((e) => ({ side: `v86-jit (failed: ${(e as Error).message.slice(0, 120)})`, seconds: NaN })));
    }
    const ours = boots[0].seconds;
    console.log('\nLinux boot to shell (test/images/out/linux.iso, 128 MiB, acpi=0 apic=0):');
    console.log(formatTable([
      ['side', 'seconds', 'WebHVM speed-up'],
      ...boots.map((b) => [b.side, fmt(b.seconds, 1), b === boots[0] ? '-' : `${fmt(b.seconds / ours, 2)}x`]),
    ]));
    console.log('Speed-up = peer seconds / WebHVM seconds (above 1 = WebHVM boots faster).');
  }
}
// v86 leaves timers behind after destroy(); the bench is done.
process.exit(0);

function formatTable(t: string[][]): string {
  const widths = t[0].map((_, i) => Math.max(...t.map((r) => r[i].length)));
  return t.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}
