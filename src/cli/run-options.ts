/**
 * NODE-ONLY (node:util): the arguments of `webhvm run`, read and checked in one place before
 * anything is opened. Combinations that cannot be honest are refused here (exit status 2):
 * docs/reproducible.md lists which options combine.
 */
import { parseArgs } from 'node:util';
import { checkRelayUrl } from '../net/relay-attach.ts';

/** `--save-at SPEC FILE`: SPEC is an instruction count (every vCPU's together), or a regular expression for COM1. */
export type SaveAt = { insns: bigint; file: string } | { serial: RegExp; file: string };

export interface RunOptions {
  configs: string[];
  /** `--until` values as given (NAME=REGEX or REGEX): until-option.ts reads them once the VM names are known. */
  until: string[];
  /** Host seconds (Infinity for none). */
  timeoutSeconds: number;
  screenshot?: string;
  debugcon?: string;
  quiet: boolean;
  tftp: string[];
  bootFile?: string;
  traceBoot?: string;
  relay?: string;
  deterministic: boolean;
  saveAt?: SaveAt;
  restore?: string;
  inputLog?: string;
  replay?: string;
  persist: boolean;
}

/** A bad argument or combination; the message says which and why. */
export class RunArgsError extends Error {}

export function parseSaveAt(spec: string, file: string): SaveAt {
  if (/^\d+$/.test(spec)) return { insns: BigInt(spec), file };
  try {
    return { serial: new RegExp(spec), file };
  } catch (e) {
    throw new RunArgsError(`--save-at: ${(e as Error).message}`);
  }
}

export function parseRunArgs(argv: readonly string[]): RunOptions {
  // --save-at takes two values; take it out before parseArgs.
  const args = [...argv];
  let saveAt: SaveAt | undefined;
  const at = args.indexOf('--save-at');
  if (at >= 0) {
    const [spec, file] = args.splice(at, 3).slice(1);
    if (spec === undefined || file === undefined || file.startsWith('--')) throw new RunArgsError('--save-at: expected an instruction count or a serial regex, then a file');
    saveAt = parseSaveAt(spec, file);
    if (args.includes('--save-at')) throw new RunArgsError('--save-at: given twice (a run saves one snapshot)');
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        until: { type: 'string', multiple: true },
        timeout: { type: 'string' },
        screenshot: { type: 'string' },
        debugcon: { type: 'string' },
        quiet: { type: 'boolean' },
        tftp: { type: 'string', multiple: true },
        'boot-file': { type: 'string' },
        'trace-boot': { type: 'string' },
        relay: { type: 'string' },
        deterministic: { type: 'boolean' },
        restore: { type: 'string' },
        'input-log': { type: 'string' },
        replay: { type: 'string' },
        persist: { type: 'boolean' },
      },
    });
  } catch (e) {
    throw new RunArgsError((e as Error).message);
  }
  const { values, positionals } = parsed;
  const options: RunOptions = {
    configs: positionals,
    until: values.until ?? [],
    timeoutSeconds: values.timeout === undefined ? Infinity : Number(values.timeout),
    screenshot: values.screenshot,
    debugcon: values.debugcon,
    quiet: values.quiet ?? false,
    tftp: values.tftp ?? [],
    bootFile: values['boot-file'],
    traceBoot: values['trace-boot'],
    relay: values.relay,
    deterministic: values.deterministic ?? false,
    saveAt,
    restore: values.restore,
    inputLog: values['input-log'],
    replay: values.replay,
    persist: values.persist ?? false,
  };
  checkCombinations(options, values.timeout);
  return options;
}

function checkCombinations(o: RunOptions, timeout: string | undefined): void {
  if (o.configs.length === 0) throw new RunArgsError('expected one or more configuration files');
  if (!(o.timeoutSeconds > 0)) throw new RunArgsError(`--timeout: expected a positive number of seconds, got '${timeout}'`);
  const relayProblem = o.relay === undefined ? undefined : checkRelayUrl(o.relay);
  if (relayProblem) throw new RunArgsError(`--relay: ${relayProblem}`);
  const reproducible: [unknown, string][] = [[o.saveAt, '--save-at'], [o.restore, '--restore'], [o.replay, '--replay'], [o.inputLog, '--input-log']];
  for (const [given, name] of reproducible) {
    if (given !== undefined && !o.deterministic) throw new RunArgsError(`${name} needs --deterministic (the run must be reproducible)`);
  }
  if (o.deterministic && o.relay !== undefined) {
    throw new RunArgsError('--deterministic cannot be combined with --relay: the frames a relay brings come from the host network at host times, so guest time follows the host clock');
  }
  if (o.configs.length > 1) {
    for (const [given, name] of [[o.saveAt, '--save-at'], [o.restore, '--restore']] as const) {
      if (given !== undefined) throw new RunArgsError(`${name} takes one configuration: a snapshot holds one VM, not the network between VMs or the state of the bridges' gateways`);
    }
  }
  if (o.restore !== undefined && o.traceBoot !== undefined) {
    throw new RunArgsError('--trace-boot cannot be combined with --restore: the boot-path trace follows a boot from power-on, and a restored run starts in the middle of one');
  }
}
