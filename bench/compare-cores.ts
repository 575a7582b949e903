/**
 * A/B comparison of two or more builds of the core on one workload, in one process: the cores
 * take turns, round after round, so load from other processes falls on all of them alike.
 * Prints each core's median CPU time per measured phase and its MIPS.
 *
 *   node --no-liftoff --import tsx bench/compare-cores.ts before.wasm after.wasm [--workload alu] [--rounds 6]
 *
 * --no-liftoff makes V8 compile the core with its optimising compiler at once, so no phase runs
 * baseline code while the big dispatcher tiers up in the background (which takes longer for a
 * bigger dispatcher and would favour the smaller build). Differences under about 5% are noise
 * on a shared machine: repeat with the order of the cores reversed before believing one.
 *
 * Build each core to a file of its own with `node wasm/build.mjs --release-to <file>`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { WORKLOADS, buildWorkload } from './workloads.ts';
import { runWebHvm } from './webhvm.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { workload: { type: 'string', default: 'alu' }, rounds: { type: 'string', default: '6' } },
});
const workload = WORKLOADS.find((w) => w.name === values.workload);
if (!workload) throw new Error(`unknown workload ${values.workload}; choose from ${WORKLOADS.map((w) => w.name).join(', ')}`);
if (positionals.length < 2) throw new Error('give at least two .wasm cores to compare');
const rounds = Math.max(2, Number(values.rounds));

const image = buildWorkload(workload, workload.outer, 3);
const cores = positionals.map((file) => ({ file, bytes: readFileSync(file), cpuMs: [] as number[] }));
const instructions = workload.phaseInstructions(workload.outer);
for (let round = 0; round < rounds; round++) {
  for (const core of cores) {
    // A fresh compile each round: where V8 places the code shifts speed by a few per cent, so one
    // compile per core would compare placements as much as cores.
    const result = runWebHvm(image, { module: new WebAssembly.Module(core.bytes) });
    if (result.phases.length === 0) throw new Error(`${core.file}: no measured phase (${result.stop})`);
    // The first round and each run's first phase warm up (tier-up to optimised code).
    if (round > 0) core.cpuMs.push(...result.phases.slice(1).map((p) => p.cpuMs));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const core of cores) {
  const ms = median(core.cpuMs);
  console.log(`${core.file}: median ${ms.toFixed(1)} CPU ms per phase (min ${Math.min(...core.cpuMs).toFixed(1)}, n=${core.cpuMs.length}) = ${(instructions / ms / 1000).toFixed(1)} MIPS`);
}
