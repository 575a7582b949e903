/**
 * NODE-ONLY: `webhvm run <config> [<config> ...]`. Parses and checks everything before any VM
 * starts (exit 2 on a bad configuration or image), boots the machines (several take turns in
 * this process, their cards on shared switches per bridge name) with COM1 on stdin/stdout, and
 * ends with one line `webhvm: <name> ended: <event>` per VM.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { basename, extname } from 'node:path';
import type { DomainConfig } from '../config/domain-config.ts';
import { ConfigError, formatDiagnostic } from '../config/diagnostics.ts';
import { readDomainConfigFile, nodeMediaResolver } from '../config/resolve-node.ts';
import { resolveMedia } from '../config/media.ts';
import { Machine } from '../machine/machine.ts';
import { machineSetupFromConfig } from '../machine/setup-from-config.ts';
import { loadCoreModule } from '../cpu/load-core-node.ts';
import { loadFirmwareFiles } from '../firmware/firmware-files-node.ts';
import { RTL8139_ROM, SYSTEM_BIOS, VGA_BIOS_STDVGA } from '../firmware/firmware-files.ts';
import { builtInGateway, type GatewayOptions } from '../net/gateway.ts';
import { SwitchRegistry } from '../net/virtual-switch.ts';
import { encodePng } from '../display/png.ts';
import { ImageError } from '../storage/image-checks.ts';
import { openImagesNode } from './open-images-node.ts';
import { runDeterministic, wantsDeterministicRun } from './deterministic-run.ts';
import { VmRunLoop, type EndEvent } from './run-loop.ts';
import { runMachines } from './multi-run.ts';
import { PrefixedOutput } from './prefixed-output.ts';
import { parseUntilOptions } from './until-option.ts';
import { gatewayOptionsFromArgs } from './tftp-option-node.ts';
import { traceBootToFile, type BootTraceFile } from './trace-boot-option.ts';
import { attachRelay, checkRelayUrl } from '../net/relay-attach.ts';
import { connectNodeWebSocket } from './websocket-client-node.ts';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_BAD_INPUT = 2;
const EXIT_CRASH = 3;

export async function runCommand(args: string[]): Promise<number> {
  // Reproducible runs (--deterministic, snapshots, input logs, persistent overlays): deterministic-run.ts.
  if (wantsDeterministicRun(args)) return runDeterministic(args);
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
      },
    });
  } catch (e) {
    console.error(`webhvm run: ${(e as Error).message}`);
    return EXIT_BAD_INPUT;
  }
  const { values, positionals } = parsed;
  if (positionals.length === 0) {
    console.error('webhvm run: expected one or more configuration files');
    return EXIT_BAD_INPUT;
  }
  const timeoutSeconds = values.timeout === undefined ? Infinity : Number(values.timeout);
  if (!(timeoutSeconds > 0)) {
    console.error(`webhvm run: --timeout: expected a positive number of seconds, got '${values.timeout}'`);
    return EXIT_BAD_INPUT;
  }

  const relayProblem = values.relay === undefined ? undefined : checkRelayUrl(values.relay);
  if (relayProblem) {
    console.error(`webhvm run: --relay: ${relayProblem}`);
    return EXIT_BAD_INPUT;
  }

  // Everything that can be wrong with the input is found here, before any VM starts.
  const several = positionals.length > 1;
  const output = new PrefixedOutput((text) => process.stdout.write(text), several);
  const network = new SwitchRegistry();
  const relayUrl = values.relay;
  const vms: Vm[] = [];
  let until: Map<string, RegExp>;
  try {
    const gateway = gatewayOptionsFromArgs(values.tftp ?? [], values['boot-file']);
    for (const configPath of positionals) {
      vms.push(await prepareVm(configPath, { several, quiet: values.quiet ?? false, output, network, gateway, traceBootPath: values['trace-boot'], realTime: relayUrl !== undefined }));
      const name = vms[vms.length - 1].config.name;
      if (vms.some((vm, i) => i < vms.length - 1 && vm.config.name === name)) throw new Error(`${configPath}: another configuration already names a VM '${name}': VM names must differ`);
    }
    until = parseUntilOptions(values.until ?? [], vms.map((vm) => vm.config.name));
  } catch (e) {
    if (e instanceof ConfigError || e instanceof ImageError) console.error(`webhvm: ${e.message}`);
    else console.error(`webhvm: ${(e as Error).message ?? e}`);
    for (const vm of vms) await vm.closeImages();
    return EXIT_BAD_INPUT;
  }

  // A relay carries every bridge of the run to the outside world (docs/relay.md).
  const uplinks = relayUrl === undefined ? [] : [...new Set(vms.flatMap((vm) => vm.config.nics.map((n) => n.bridge)))]
    .map((bridge) => attachRelay(network, bridge, relayUrl, (url) => connectNodeWebSocket(url), {
      onStatus: (status, detail) => console.error(`webhvm: relay ${status}: ${detail}`),
    }));

  // What is typed goes to the first VM's COM1.
  const first = vms[0];
  const stdinListener = (chunk: Buffer) => first.machine.serial[0].receive(new Uint8Array(chunk));
  if (first.config.serial.console) {
    process.stdin.on('data', stdinListener);
    process.stdin.resume();
  }
  let results;
  try {
    results = await runMachines(vms.map((vm) => ({
      hasPattern: until.has(vm.config.name),
      loop: new VmRunLoop(vm.machine, {
        until: until.get(vm.config.name),
        onPoweroff: vm.config.onPoweroff,
        onReboot: vm.config.onReboot,
        onCrash: vm.config.onCrash,
        serialText: () => vm.serialText,
        onNote: (m) => {
          output.endLine();
          console.error(`${several ? '' : '\n'}webhvm: ${several ? `${vm.config.name}: ` : ''}${m}`);
        },
      }),
    })), { timeoutSeconds });
  } finally {
    process.stdin.off('data', stdinListener);
    process.stdin.pause();
    for (const uplink of uplinks) uplink.close();
  }
  output.endLine();
  let worst = EXIT_OK;
  for (const [i, vm] of vms.entries()) {
    const result = results[i];
    const { machine, config } = vm;
    vm.traceBoot?.finish();
    if (values.debugcon) writeFileSync(perVmPath(values.debugcon, config.name, several), vm.debugText);
    if (values.screenshot) {
      const frame = machine.screenshot();
      writeFileSync(perVmPath(values.screenshot, config.name, several), encodePng(frame.width, frame.height, frame.rgba));
    }
    await vm.closeImages();
    const code = exitCode(result.event, until.has(config.name));
    worst = Math.max(worst, code);
    if (result.error) console.error(`webhvm: ${config.name}: emulator error: ${(result.error as Error).stack ?? result.error}`);
    if (code !== EXIT_OK) report(machine, vm.serialText, several ? ` of ${config.name}` : '');
  }
  for (const [i, vm] of vms.entries()) console.log(`${i === 0 ? '\n' : ''}webhvm: ${vm.config.name} ended: ${results[i].event}`);
  return worst;
}

/** One VM of the run, ready to start. */
interface Vm {
  config: DomainConfig;
  machine: Machine;
  closeImages: () => Promise<void>;
  /** COM1 output so far (the tail, for --until and the failure report). */
  serialText: string;
  debugText: string;
  traceBoot?: BootTraceFile;
}

interface VmContext {
  several: boolean;
  quiet: boolean;
  output: PrefixedOutput;
  network: SwitchRegistry;
  gateway: Omit<GatewayOptions, 'port'>;
  traceBootPath?: string;
  /** Guest time follows the host clock (a relay: the outside world's timeouts are real). */
  realTime?: boolean;
}

/** Reads, checks and builds one VM; throws ConfigError, ImageError, FirmwareError or Error. */
async function prepareVm(configPath: string, context: VmContext): Promise<Vm> {
  const result = await readDomainConfigFile(configPath);
  for (const w of result.warnings) console.error(`webhvm: ${formatDiagnostic(basename(configPath), w)}`);
  const config = result.config;
  const media = await resolveMedia(config, nodeMediaResolver(configPath), { fileName: configPath });
  const images = await openImagesNode(media);
  try {
    // The iPXE option ROM only when the network is in the boot order (see docs/networking.md).
    const netBoot = config.boot.includes('n') && config.nics.length > 0;
    const firmware = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA, ...(netBoot ? [RTL8139_ROM] : [])]);
    const serialToStdout = config.serial.console && !context.quiet;
    const vm: Partial<Vm> & { serialText: string; debugText: string } = { config, closeImages: images.close, serialText: '', debugText: '' };
    const setup = machineSetupFromConfig(config, images.opened, {
      firmware: { bios: firmware.get(SYSTEM_BIOS)!, vgaBios: firmware.get(VGA_BIOS_STDVGA)!, nicRom: firmware.get(RTL8139_ROM) },
      serialOutput: (port, byte) => {
        if (port !== 0) return;
        const ch = String.fromCharCode(byte);
        vm.serialText += ch;
        if (vm.serialText.length > 4_000_000) vm.serialText = vm.serialText.slice(-2_000_000);
        if (serialToStdout) context.output.print(config.name, ch);
      },
      debugConsole: (byte) => {
        vm.debugText += String.fromCharCode(byte);
      },
      nowSeconds: Math.floor(Date.now() / 1000),
      localOffsetSeconds: -new Date().getTimezoneOffset() * 60,
    });
    // The gateway of each bridge is set up before the machines plug into it.
    for (const nic of config.nics) builtInGateway(context.network.bridge(nic.bridge), context.gateway);
    const hostClockMs = context.realTime ? () => performance.now() : undefined;
    const machine = new Machine({ ...setup, network: context.network, hostClockMs }, loadCoreModule());
    vm.machine = machine;
    if (context.traceBootPath) vm.traceBoot = traceBootToFile(machine, perVmPath(context.traceBootPath, config.name, context.several));
    return vm as Vm;
  } catch (e) {
    await images.close();
    throw e;
  }
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
