/**
 * Snapshot size and save/restore time of a booted Linux guest (the project's Linux CD,
 * 128 MiB, at its shell marker), in deterministic mode as `webhvm run --save-at` takes them.
 *
 *   npx tsx bench/snapshot.ts                       boot to the marker first (a Linux boot)
 *   npx tsx bench/snapshot.ts --config C --snapshot S
 *                                                   start from a snapshot of configuration C
 *
 * Prints the file size, its parts, the guest RAM in use, and the median of several saves and
 * restores (each restore into a fresh Machine, checked by its fingerprint).
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { buildMachineFromConfig } from '../src/cli/deterministic-machine.ts';
import { saveSnapshot, restoreSnapshot } from '../src/snapshot/machine-snapshot.ts';
import { readSnapshotFile } from '../src/snapshot/container.ts';
import { packPages } from '../src/snapshot/compression.ts';
import { formatFingerprint } from '../src/machine/fingerprint.ts';
import type { SerialRecord } from '../src/harness/session.ts';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const ISO = join(root, 'test/images/out/linux.iso');
const ROUNDS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string' }, snapshot: { type: 'string' } } });
  let config = values.config;
  if (!config) {
    if (!existsSync(ISO)) throw new Error(`${ISO} is missing: run "bash test/images/build-guests.sh"`);
    config = join(mkdtempSync(join(tmpdir(), 'webhvm-bench-')), 'bench.cfg');
    writeFileSync(config, `name = 'bench'\nbuilder = 'hvm'\nmemory = 128\nacpi = 0\napic = 0\nserial = 'pty'\nboot = 'd'\ndisk = [ 'file:${ISO},hdc:cdrom,r' ]\n`);
  }
  const quiet = { deterministic: true, onWarning: () => {} };
  const first = await buildMachineFromConfig(config, quiet);
  if (values.snapshot) {
    const restored = await restoreSnapshot(first.machine, new Uint8Array(readFileSync(values.snapshot)));
    if (restored.extras.serial) first.session.restoreSerial(restored.extras.serial as SerialRecord);
  } else {
    const start = performance.now();
    const r = await first.session.run({ serialAtBoundary: /WEBHVM-GUEST-READY/, timeoutMs: 1_800_000 });
    if (r.end !== 'reached') throw new Error(`the guest did not reach its marker (${r.end})`);
    console.log(`booted to the marker in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
  await first.session.run({ ioIdle: true, timeoutMs: 60_000 });
  const expected = formatFingerprint(first.session.fingerprint());

  const saves: number[] = [];
  let file: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    file = await saveSnapshot(first.machine, { serial: first.session.saveSerial() });
    saves.push(performance.now() - t);
  }
  const restores: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const fresh = await buildMachineFromConfig(config, quiet);
    const t = performance.now();
    const restored = await restoreSnapshot(fresh.machine, file);
    restores.push(performance.now() - t);
    fresh.session.restoreSerial(restored.extras.serial as SerialRecord);
    if (formatFingerprint(fresh.session.fingerprint()) !== expected) throw new Error('a restored machine has another fingerprint');
    await fresh.close();
  }
  const parts = await readSnapshotFile(file);
  const ram = first.machine.cpu.ram();
  const usedRam = packPages(ram).length;
  console.log(`guest: ${config}, ${mib(ram.length)} RAM, ${mib(usedRam)} of it in non-zero pages`);
  console.log(`snapshot file: ${mib(file.length)} (${file.length} bytes)`);
  for (const [name, data] of parts.sections) console.log(`  section ${name}: ${mib(data.length)} uncompressed`);
  console.log(`save: median ${median(saves).toFixed(0)} ms of ${ROUNDS} (${saves.map((s) => s.toFixed(0)).join(', ')})`);
  console.log(`restore into a fresh machine: median ${median(restores).toFixed(0)} ms of ${ROUNDS} (${restores.map((s) => s.toFixed(0)).join(', ')})`);
  console.log(`fingerprint after every restore: ${expected}`);
  await first.close();
}

main().catch((e) => {
  console.error(`bench/snapshot: ${(e as Error).message}`);
  process.exitCode = 1;
});
