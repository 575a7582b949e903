/**
 * The differential test driver: generates seeded cases in batches, runs each batch natively and
 * in the WebAssembly CPU, compares, and for every case that differs finds the first
 * instruction whose prefix of the sequence already differs (running all prefixes on both
 * sides) and reports it with the disassembled sequence and both states.
 *
 * Command line (npm run test:differential -- --seed 7 --count 20000000):
 *   --seed N       first seed (default 1)
 *   --count N      instructions to generate (default 1,000,000)
 *   --length N     instructions per sequence (default 50)
 *   --classes a,b  test classes (default: all classes the table has rows for)
 *   --max-failures N   stop after N differing cases (default 10)
 */
import { generatableRows, generateCases, type GeneratorOptions, type TestCase, type TestClass } from './generator.ts';
import { runNative } from './native.ts';
import { EmulatorRunner } from './emulator.ts';
import { compareResults, completedInstructions, describeResult, describeState, listing } from './compare.ts';

export interface DifferentialOptions extends GeneratorOptions {
  seed: number;
  /** Instructions to generate in total. */
  instructions: number;
  /** Cases per native process. */
  batch?: number;
  maxFailures?: number;
  onProgress?: (done: DifferentialSummary) => void;
}

export interface DifferentialSummary {
  cases: number;
  /** Instructions generated. */
  generated: number;
  /** Instructions that completed natively (up to the exception that ends each case). */
  executed: number;
  /** Cases by the exception that ended them (13 includes the final HLT). */
  endings: Map<number, number>;
  failures: string[];
}

export function runDifferential(options: DifferentialOptions): DifferentialSummary {
  const length = options.length ?? 50;
  const batch = options.batch ?? 5000;
  const maxFailures = options.maxFailures ?? 10;
  const emulator = new EmulatorRunner();
  const summary: DifferentialSummary = { cases: 0, generated: 0, executed: 0, endings: new Map(), failures: [] };
  let seed = options.seed;
  while (summary.generated < options.instructions && summary.failures.length < maxFailures) {
    const n = Math.max(1, Math.min(batch, Math.ceil((options.instructions - summary.generated) / length)));
    const cases = generateCases(seed, n, { ...options, length });
    const native = runNative(cases);
    for (let k = 0; k < cases.length; k++) {
      const c = cases[k];
      const emulated = emulator.run(c);
      summary.cases++;
      summary.generated += c.instructions.length;
      summary.executed += completedInstructions(c, native[k].eip);
      summary.endings.set(native[k].vector, (summary.endings.get(native[k].vector) ?? 0) + 1);
      const diffs = compareResults(c, native[k], emulated);
      if (diffs.length && summary.failures.length < maxFailures) {
        summary.failures.push(explain(`seed ${seed} case ${k}`, c, emulator));
      }
    }
    seed++;
    options.onProgress?.(summary);
  }
  return summary;
}

/** A prefix of the case: its first `k` instructions, then HLT. */
function prefixCase(c: TestCase, k: number): TestCase {
  const end = k < c.instructions.length ? c.instructions[k].offset : c.code.length - 1;
  const code = new Uint8Array(end + 1);
  code.set(c.code.subarray(0, end));
  code[end] = 0xf4;
  return { ...c, code, instructions: c.instructions.slice(0, k) };
}

/** Find the first instruction after which the two CPUs disagree, and describe it. */
export function explain(name: string, c: TestCase, emulator: EmulatorRunner): string {
  const prefixes = [];
  // A prefix never ends between a state save and the stores that scrub its host-dependent fields.
  for (let k = 1; k <= c.instructions.length; k++) if (!c.instructions[k]?.completes) prefixes.push(prefixCase(c, k));
  const native = runNative(prefixes);
  let first = -1;
  let diffs: string[] = [];
  let emulated;
  for (let k = 0; k < prefixes.length; k++) {
    emulated = emulator.run(prefixes[k]);
    diffs = compareResults(prefixes[k], native[k], emulated);
    if (diffs.length) {
      first = k;
      break;
    }
  }
  const lines = [`${name}: `];
  if (first < 0) {
    lines[0] += 'the whole sequence differs but no prefix does (state carried between instructions?)';
    const full = runNative([c])[0];
    emulated = emulator.run(c);
    diffs = compareResults(c, full, emulated);
    lines.push(`  differences: ${diffs.join('\n               ')}`, `  native:   ${describeResult(full)}`, `  emulator: ${describeResult(emulated)}`);
    lines.push(listing(c));
    return lines.join('\n');
  }
  const before = first > 0 ? native[first - 1] : undefined;
  const at = prefixes[first].instructions.length - 1;
  lines[0] += `first difference at instruction ${at}`;
  lines.push(`  initial:  ${describeState({ regs: c.regs, eflags: c.eflags })} data seed ${c.seed}`);
  if (before) lines.push(`  before:   ${describeResult(before)} (native, after instruction ${prefixes[first - 1].instructions.length - 1})`);
  lines.push(`  differences: ${diffs.join('\n               ')}`);
  lines.push(`  native:   ${describeResult(native[first])}`);
  lines.push(`  emulator: ${describeResult(emulated!)}`);
  lines.push(listing(c, at));
  return lines.join('\n');
}

function parseArgs(argv: string[]): DifferentialOptions {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    seed: Number(get('seed') ?? 1),
    instructions: Number(get('count') ?? 1_000_000),
    length: Number(get('length') ?? 50),
    maxFailures: Number(get('max-failures') ?? 10),
    classes: get('classes')?.split(',') as TestClass[] | undefined,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const options = parseArgs(process.argv.slice(2));
  const { skipped } = generatableRows(options.classes);
  if (skipped.length) console.log(`rows not generated:\n  ${skipped.join('\n  ')}`);
  const started = Date.now();
  const summary = runDifferential({
    ...options,
    onProgress: (s) => process.stderr.write(`\r${s.generated} instructions, ${s.cases} cases, ${s.failures.length} differing`),
  });
  process.stderr.write('\n');
  for (const f of summary.failures) console.log(`${f}\n`);
  const endings = [...summary.endings.entries()].sort((a, b) => a[0] - b[0]).map(([v, n]) => `#${v}: ${n}`).join(', ');
  console.log(`${summary.generated} instructions generated, ${summary.executed} executed in ${summary.cases} cases (${endings}) in ${((Date.now() - started) / 1000).toFixed(1)} s: ${summary.failures.length} differing cases`);
  process.exitCode = summary.failures.length ? 1 : 0;
}
