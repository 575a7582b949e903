/**
 * NODE-ONLY: `webhvm run` with the options of reproducible runs (docs/reproducible.md):
 * --deterministic (prints the run's fingerprint before its `ended:` line), --save-at SPEC FILE,
 * --restore FILE, --input-log FILE, --replay FILE, --persist. run-command.ts hands over to
 * runDeterministic when any of them is given; the other options mean what they mean there.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/diagnostics.ts';
import { ImageError } from '../storage/image-checks.ts';
import { OverlayMismatchError } from '../storage/overlay-store.ts';
import { encodePng } from '../display/png.ts';
import { formatFingerprint } from '../machine/fingerprint.ts';
import { saveSnapshot, restoreSnapshot } from '../snapshot/machine-snapshot.ts';
import { SnapshotError } from '../snapshot/container.ts';
import type { SerialRecord, RunGoal, RunOutcome } from '../harness/session.ts';
import { formatInputLog, parseInputLog, type InputEvent } from '../harness/input-log.ts';
import { buildMachineFromConfig, type BuiltMachine } from './deterministic-machine.ts';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_BAD_INPUT = 2;
const EXIT_CRASH = 3;

/** Options that select this runner. */
export const DETERMINISTIC_RUN_OPTIONS = ['--deterministic', '--save-at', '--restore', '--input-log', '--replay', '--persist'];

export function wantsDeterministicRun(args: readonly string[]): boolean {
  return args.some((a) => DETERMINISTIC_RUN_OPTIONS.includes(a.split('=')[0]));
}

/** `--save-at SPEC FILE`: SPEC is an instruction count, or a regular expression for COM1. */
export type SaveAt = { insns: bigint; file: string } | { serial: RegExp; file: string };

export function parseSaveAt(spec: string, file: string): SaveAt {
  if (/^\d+$/.test(spec)) return { insns: BigInt(spec), file };
  return { serial: new RegExp(spec), file };
}

const fail = (message: string): number => {
  console.error(`webhvm run: ${message}`);
  return EXIT_BAD_INPUT;
};

export async function runDeterministic(argv: string[]): Promise<number> {
  // --save-at takes two values; take it out before parseArgs.
  const args = [...argv];
  let saveAt: SaveAt | undefined;
  const at = args.indexOf('--save-at');
  if (at >= 0) {
    const [spec, file] = args.splice(at, 3).slice(1);
    if (spec === undefined || file === undefined) return fail('--save-at: expected an instruction count or a serial regex, then a file');
    try {
      saveAt = parseSaveAt(spec, file);
    } catch (e) {
      return fail(`--save-at: ${(e as Error).message}`);
    }
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        until: { type: 'string' },
        timeout: { type: 'string' },
        screenshot: { type: 'string' },
        debugcon: { type: 'string' },
        quiet: { type: 'boolean' },
        deterministic: { type: 'boolean' },
        restore: { type: 'string' },
        'input-log': { type: 'string' },
        replay: { type: 'string' },
        persist: { type: 'boolean' },
      },
    });
  } catch (e) {
    // Several VMs, --trace-boot, --tftp and --boot-file are the regular runner's (run-command.ts).
    return fail(`${(e as Error).message} (with ${DETERMINISTIC_RUN_OPTIONS.join(', ')} the runner takes one configuration and --until, --timeout, --screenshot, --debugcon, --quiet)`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return fail('expected exactly one configuration file');
  const deterministic = !!values.deterministic;
  for (const [given, name] of [[saveAt, '--save-at'], [values.restore, '--restore'], [values.replay, '--replay'], [values['input-log'], '--input-log']] as const) {
    if (given !== undefined && !deterministic) return fail(`${name} needs --deterministic (the run must be reproducible)`);
  }
  let until: RegExp | undefined;
  try {
    until = values.until === undefined ? undefined : new RegExp(values.until);
  } catch (e) {
    return fail(`--until: ${(e as Error).message}`);
  }
  const timeoutSeconds = values.timeout === undefined ? Infinity : Number(values.timeout);
  if (!(timeoutSeconds > 0)) return fail(`--timeout: expected a positive number of seconds, got '${values.timeout}'`);
  let replay: InputEvent[] | undefined;
  let snapshotFile: Uint8Array | undefined;
  try {
    if (values.replay) replay = parseInputLog(await readFile(values.replay, 'utf8'), values.replay);
    if (values.restore) snapshotFile = new Uint8Array(await readFile(values.restore));
  } catch (e) {
    return fail((e as Error).message);
  }

  let built: BuiltMachine;
  let debugText = '';
  let echo = false;
  try {
    built = await buildMachineFromConfig(positionals[0], {
      deterministic,
      persist: values.persist,
      debugConsole: (b) => (debugText += String.fromCharCode(b)),
      session: {
        replay,
        onSerialByte: (port, byte) => {
          if (port === 0 && echo) process.stdout.write(String.fromCharCode(byte));
        },
        onNote: (m) => console.error(`\nwebhvm: ${m}`),
      },
    });
    for (const event of replay ?? []) if (event.action.kind === 'media' && event.action.path) await built.prepareMedia(event.action.path);
  } catch (e) {
    const known = e instanceof ConfigError || e instanceof ImageError || e instanceof OverlayMismatchError;
    console.error(`webhvm: ${known ? (e as Error).message : ((e as Error).message ?? e)}`);
    return EXIT_BAD_INPUT;
  }
  const { config, machine, session } = built;
  session.options.onPoweroff = config.onPoweroff;
  session.options.onReboot = config.onReboot;
  if (snapshotFile) {
    try {
      const restored = await restoreSnapshot(machine, snapshotFile);
      const serial = restored.extras.serial as SerialRecord | undefined;
      if (serial) session.restoreSerial(serial);
      console.error(`webhvm: restored ${values.restore} at insns=${machine.cpu.instructions}`);
    } catch (e) {
      await built.close();
      console.error(`webhvm: ${values.restore}: ${(e as Error).message}`);
      return EXIT_BAD_INPUT;
    }
  }
  echo = config.serial.console && !values.quiet;

  const stdinListener = (chunk: Buffer) => session.input({ kind: 'serial', port: 0, bytes: Array.from(chunk) });
  const interactive = config.serial.console && !replay;
  if (interactive) {
    process.stdin.on('data', stdinListener);
    process.stdin.resume();
  }
  const deadline = Date.now() + timeoutSeconds * 1000;
  const goal = (extra: RunGoal = {}): RunGoal => ({ serial: until, serialFrom: 0, interactive, timeoutMs: Math.max(0, deadline - Date.now()), ...extra });
  let outcome: RunOutcome;
  try {
    outcome = await runWithSave(built, goal, saveAt);
  } finally {
    process.stdin.off('data', stdinListener);
    process.stdin.pause();
  }
  const fingerprint = deterministic && outcome.end !== 'crash' ? formatFingerprint(session.fingerprint()) : undefined;
  if (values.debugcon) await writeFile(values.debugcon, debugText);
  if (values.screenshot) {
    const frame = machine.screenshot();
    await writeFile(values.screenshot, encodePng(frame.width, frame.height, frame.rgba));
  }
  if (values['input-log']) await writeFile(values['input-log'], formatInputLog(session.inputLog));
  await built.close();
  const event = outcome.end === 'reached' || outcome.end === 'stuck' ? 'timeout' : outcome.end;
  const code = event === 'matched' ? EXIT_OK : event === 'crash' ? EXIT_CRASH : event === 'timeout' ? EXIT_FAILED : until ? EXIT_FAILED : EXIT_OK;
  if (outcome.error) console.error(`webhvm: ${outcome.error instanceof SnapshotError ? '' : 'emulator error: '}${(outcome.error as Error).stack ?? outcome.error}`);
  if (code !== EXIT_OK) {
    const screen = machine.screenText();
    console.error('\n--- last screen ---');
    console.error(screen ? screen.join('\n').replace(/\s+$/, '') : '(graphics mode)');
    console.error('--- last serial lines ---');
    console.error(session.serialText.split('\n').slice(-20).join('\n'));
    console.error(`--- cpu: ${machine.cpu.describe()}`);
  }
  if (fingerprint) console.log(`\n${fingerprint}`);
  console.log(`${fingerprint ? '' : '\n'}webhvm: ${config.name} ended: ${event}`);
  return code;
}

/**
 * Run to the end goal; with --save-at, first to the save point (a run-loop boundary, so saving
 * does not change the run), on until no disk request is in flight, save, and go on.
 */
async function runWithSave(built: BuiltMachine, goal: (extra?: RunGoal) => RunGoal, saveAt: SaveAt | undefined): Promise<RunOutcome> {
  const { machine, session } = built;
  if (saveAt) {
    const first = await session.run(goal('insns' in saveAt ? { insns: saveAt.insns } : { serialAtBoundary: saveAt.serial }));
    if (first.end !== 'reached') {
      console.error(`\nwebhvm: the run ended (${first.end}) before the save point: no snapshot written`);
      return first;
    }
    const idle = await session.run(goal({ ioIdle: true }));
    if (idle.end !== 'reached') {
      console.error(`\nwebhvm: the run ended (${idle.end}) while waiting for the disks to be idle: no snapshot written`);
      return idle;
    }
    try {
      const file = await saveSnapshot(machine, { serial: session.saveSerial() });
      await writeFile(saveAt.file, file);
      console.error(`\nwebhvm: saved ${saveAt.file} at insns=${machine.cpu.instructions} (${file.length} bytes)`);
    } catch (e) {
      return { end: 'crash', error: e };
    }
  }
  return session.run(goal());
}
