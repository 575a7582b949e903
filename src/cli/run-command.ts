/**
 * NODE-ONLY: `webhvm run <config> [<config> ...]`. Reads and checks every argument,
 * configuration and image before any VM starts (exit 2 on a bad one, or on options that cannot
 * be combined honestly: run-options.ts), boots the machines (several take turns in this process
 * in a fixed interleaving, their cards on shared switches per bridge name) with the first VM's
 * COM1 on stdin/stdout, and ends with one line `webhvm: <name> ended: <event>` per VM, after a
 * `fingerprint:` line per VM with --deterministic. Every option goes through this one path:
 * the reproducible ones (docs/reproducible.md) as much as the network and trace ones.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { Machine } from '../machine/machine.ts';
import { formatFingerprint } from '../machine/fingerprint.ts';
import { SwitchRegistry } from '../net/virtual-switch.ts';
import { encodePng } from '../display/png.ts';
import { restoreSnapshot } from '../snapshot/machine-snapshot.ts';
import type { SerialRecord } from '../harness/session.ts';
import { formatInputLog, parseInputLog, type InputEvent } from '../harness/input-log.ts';
import { attachRelay } from '../net/relay-attach.ts';
import { buildMachineFromConfig, buildErrorText, type BuiltMachine } from './deterministic-machine.ts';
import type { EndEvent } from './run-loop.ts';
import { runMachines } from './multi-run.ts';
import { PrefixedOutput } from './prefixed-output.ts';
import { parseUntilOptions } from './until-option.ts';
import { gatewayOptionsFromArgs } from './tftp-option-node.ts';
import { traceBootToFile, type BootTraceFile } from './trace-boot-option.ts';
import { connectNodeWebSocket } from './websocket-client-node.ts';
import { parseRunArgs, type RunOptions } from './run-options.ts';
import { SessionVm } from './session-vm.ts';
import { IdleWake } from '../machine/idle-wake.ts';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_BAD_INPUT = 2;
const EXIT_CRASH = 3;

/** One VM of the run, ready to start. */
interface Vm {
  built: BuiltMachine;
  name: string;
  runner: SessionVm;
  /** The VM has an --until pattern: the run waits for it, and a power event fails it. */
  hasPattern: boolean;
  debugText: string;
  traceBoot?: BootTraceFile;
}

export async function runCommand(args: string[]): Promise<number> {
  let options: RunOptions;
  try {
    options = parseRunArgs(args);
  } catch (e) {
    console.error(`webhvm run: ${(e as Error).message}`);
    return EXIT_BAD_INPUT;
  }
  let replay: InputEvent[] | undefined;
  let snapshotFile: Uint8Array | undefined;
  try {
    if (options.replay) replay = parseInputLog(await readFile(options.replay, 'utf8'), options.replay);
    if (options.restore) snapshotFile = new Uint8Array(await readFile(options.restore));
  } catch (e) {
    console.error(`webhvm run: ${(e as Error).message}`);
    return EXIT_BAD_INPUT;
  }

  // Everything that can be wrong with the input is found here, before any VM starts.
  const several = options.configs.length > 1;
  const output = new PrefixedOutput((text) => process.stdout.write(text), several);
  const note = (name: string) => (m: string) => {
    output.endLine();
    console.error(`${several ? '' : '\n'}webhvm: ${several ? `${name}: ` : ''}${m}`);
  };
  const wake = new IdleWake();
  const network = new SwitchRegistry(() => wake.wake());
  const vms: Vm[] = [];
  const closeAll = async () => {
    for (const vm of vms) await vm.built.close();
  };
  try {
    const gateway = gatewayOptionsFromArgs(options.tftp, options.bootFile);
    for (const [index, configPath] of options.configs.entries()) {
      const vm: Partial<Vm> & { debugText: string } = { debugText: '' };
      let echo = false;
      let name = '';
      const built = await buildMachineFromConfig(configPath, {
        deterministic: options.deterministic,
        persist: options.persist,
        network,
        gateway,
        realTime: options.relay !== undefined,
        debugConsole: (b) => (vm.debugText += String.fromCharCode(b)),
        session: {
          // Input (stdin, or the replayed log) goes to the first VM.
          replay: index === 0 ? replay : undefined,
          onSerialByte: (port, byte) => {
            if (port === 0 && echo) output.print(name, String.fromCharCode(byte));
          },
          onNote: (m) => note(name)(m),
        },
      });
      name = built.config.name;
      echo = built.config.serial.console && !options.quiet;
      vm.built = built;
      vm.name = name;
      vms.push(vm as Vm);
      if (vms.some((other, i) => i < vms.length - 1 && other.name === name)) throw new Error(`${configPath}: another configuration already names a VM '${name}': VM names must differ`);
    }
    for (const event of replay ?? []) if (event.action.kind === 'media' && event.action.path) await vms[0].built.prepareMedia(event.action.path);
    if (snapshotFile) {
      const { machine, session } = vms[0].built;
      try {
        const restored = await restoreSnapshot(machine, snapshotFile);
        const serial = restored.extras.serial as SerialRecord | undefined;
        if (serial) session.restoreSerial(serial);
      } catch (e) {
        throw new Error(`${options.restore}: ${(e as Error).message}`);
      }
      console.error(`webhvm: restored ${options.restore} at insns=${machine.cpu.totalInstructions}`);
    }
    const until = parseUntilOptions(options.until, vms.map((vm) => vm.name));
    for (const vm of vms) {
      vm.hasPattern = until.has(vm.name);
      vm.runner = new SessionVm(vm.built.session, {
        until: until.get(vm.name),
        saveAt: options.saveAt,
        writeSnapshot: async (at, file, insns) => {
          await writeFile(at.file, file);
          note(vm.name)(`saved ${at.file} at insns=${insns} (${file.length} bytes)`);
        },
        onNote: note(vm.name),
      });
      if (options.traceBoot) vm.traceBoot = traceBootToFile(vm.built.machine, perVmPath(options.traceBoot, vm.name, several));
    }
  } catch (e) {
    console.error(`webhvm: ${buildErrorText(e)}`);
    await closeAll();
    return EXIT_BAD_INPUT;
  }

  // A relay carries every bridge of the run to the outside world (docs/relay.md).
  const relayUrl = options.relay;
  const uplinks = relayUrl === undefined ? [] : [...new Set(vms.flatMap((vm) => vm.built.config.nics.map((n) => n.bridge)))]
    .map((bridge) => attachRelay(network, bridge, relayUrl, (url) => connectNodeWebSocket(url), {
      onStatus: (status, detail) => console.error(`webhvm: relay ${status}: ${detail}`),
    }));

  // What is typed goes to the first VM's COM1, taken (and logged) at its next run-loop boundary.
  const first = vms[0].built;
  const stdinListener = (chunk: Buffer) => first.session.input({ kind: 'serial', port: 0, bytes: Array.from(chunk) });
  const interactive = first.config.serial.console && !replay;
  if (interactive) {
    process.stdin.on('data', stdinListener);
    process.stdin.resume();
  }
  let results;
  try {
    results = await runMachines(vms.map((vm) => ({ hasPattern: vm.hasPattern, loop: vm.runner })), {
      timeoutSeconds: options.timeoutSeconds,
      lockstep: true,
      wake,
    });
  } finally {
    process.stdin.off('data', stdinListener);
    process.stdin.pause();
    for (const uplink of uplinks) uplink.close();
  }
  output.endLine();

  const fingerprints: string[] = [];
  let worst = EXIT_OK;
  for (const [i, vm] of vms.entries()) {
    const result = results[i];
    const { machine, session } = vm.built;
    const of = several ? ` of ${vm.name}` : '';
    vm.traceBoot?.finish();
    if (options.saveAt && vm.runner.savePending) console.error(`webhvm: ${several ? `${vm.name}: ` : ''}the run ended (${result.event}) before the save point: no snapshot written`);
    if (options.deterministic && result.event !== 'crash') fingerprints.push(`${several ? `${vm.name}| ` : ''}${formatFingerprint(session.fingerprint())}`);
    if (options.debugcon) writeFileSync(perVmPath(options.debugcon, vm.name, several), vm.debugText);
    if (options.screenshot) {
      const frame = machine.screenshot();
      writeFileSync(perVmPath(options.screenshot, vm.name, several), encodePng(frame.width, frame.height, frame.rgba));
    }
    if (options.inputLog && i === 0) writeFileSync(options.inputLog, formatInputLog(session.inputLog));
    await vm.built.close();
    const code = exitCode(result.event, vm.hasPattern);
    worst = Math.max(worst, code);
    if (result.error) console.error(`webhvm: ${several ? `${vm.name}: ` : ''}emulator error: ${(result.error as Error).stack ?? result.error}`);
    if (code !== EXIT_OK) report(machine, session.serialText, of);
  }
  console.log(['', ...fingerprints, ...vms.map((vm, i) => `webhvm: ${vm.name} ended: ${results[i].event}`)].join('\n'));
  return worst;
}

/** With several VMs, each writes its own file: `out.png` becomes `out-NAME.png`. */
function perVmPath(path: string, name: string, several: boolean): string {
  if (!several) return path;
  const ext = extname(path);
  return `${path.slice(0, path.length - ext.length)}-${name.replace(/[^A-Za-z0-9._-]/g, '_')}${ext}`;
}

function exitCode(event: EndEvent, hadUntil: boolean): number {
  switch (event) {
    case 'matched': case 'stopped': return EXIT_OK;
    case 'poweroff': case 'reboot': return hadUntil ? EXIT_FAILED : EXIT_OK;
    case 'crash': return EXIT_CRASH;
    default: return EXIT_FAILED;
  }
}

/** On failure: the last VGA text screen and the last serial lines, to stderr. */
function report(machine: Machine, serial: string, of: string): void {
  const screen = machine.screenText();
  console.error(`\n--- last screen${of} ---`);
  console.error(screen ? screen.join('\n').replace(/\s+$/, '') : '(graphics mode)');
  console.error(`--- last serial lines${of} ---`);
  console.error(serial.split('\n').slice(-20).join('\n'));
  console.error(`--- cpu: ${machine.cpu.describe()}`);
}
