/**
 * NODE-ONLY: `webhvm run <config>`. Parses and checks everything before the VM starts (exit 2
 * on a bad configuration or image), boots the machine with COM1 on stdin/stdout, and ends with
 * the line `webhvm: <name> ended: <event>`.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { basename } from 'node:path';
import { ConfigError, formatDiagnostic } from '../config/diagnostics.ts';
import { readDomainConfigFile, nodeMediaResolver } from '../config/resolve-node.ts';
import { resolveMedia } from '../config/media.ts';
import { Machine } from '../machine/machine.ts';
import { machineSetupFromConfig } from '../machine/setup-from-config.ts';
import { loadCoreModule } from '../cpu/load-core-node.ts';
import { loadFirmwareFiles } from '../firmware/firmware-files-node.ts';
import { SYSTEM_BIOS, VGA_BIOS_STDVGA } from '../firmware/firmware-files.ts';
import { encodePng } from '../display/png.ts';
import { ImageError } from '../storage/image-checks.ts';
import { openImagesNode } from './open-images-node.ts';
import { runUntilEnd, type EndEvent } from './run-loop.ts';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_BAD_INPUT = 2;
const EXIT_CRASH = 3;

export async function runCommand(args: string[]): Promise<number> {
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
      },
    });
  } catch (e) {
    console.error(`webhvm run: ${(e as Error).message}`);
    return EXIT_BAD_INPUT;
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    console.error('webhvm run: expected exactly one configuration file');
    return EXIT_BAD_INPUT;
  }
  const configPath = positionals[0];
  let until: RegExp | undefined;
  try {
    until = values.until === undefined ? undefined : new RegExp(values.until);
  } catch (e) {
    console.error(`webhvm run: --until: ${(e as Error).message}`);
    return EXIT_BAD_INPUT;
  }
  const timeoutSeconds = values.timeout === undefined ? Infinity : Number(values.timeout);
  if (!(timeoutSeconds > 0)) {
    console.error(`webhvm run: --timeout: expected a positive number of seconds, got '${values.timeout}'`);
    return EXIT_BAD_INPUT;
  }

  // Everything that can be wrong with the input is found here, before the VM starts.
  let config, closeImages: () => Promise<void>, machine: Machine;
  let serialText = '';
  let debugText = '';
  try {
    const result = await readDomainConfigFile(configPath);
    for (const w of result.warnings) console.error(`webhvm: ${formatDiagnostic(basename(configPath), w)}`);
    config = result.config;
    const media = await resolveMedia(config, nodeMediaResolver(configPath), { fileName: configPath });
    const images = await openImagesNode(media);
    closeImages = images.close;
    const firmware = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA]);
    const serialToStdout = config.serial.console && !values.quiet;
    const setup = machineSetupFromConfig(config, images.opened, {
      firmware: { bios: firmware.get(SYSTEM_BIOS)!, vgaBios: firmware.get(VGA_BIOS_STDVGA)! },
      serialOutput: (port, byte) => {
        if (port !== 0) return;
        const ch = String.fromCharCode(byte);
        serialText += ch;
        if (serialText.length > 4_000_000) serialText = serialText.slice(-2_000_000);
        if (serialToStdout) process.stdout.write(ch);
      },
      debugConsole: (byte) => {
        debugText += String.fromCharCode(byte);
      },
      nowSeconds: Math.floor(Date.now() / 1000),
      localOffsetSeconds: -new Date().getTimezoneOffset() * 60,
    });
    machine = new Machine(setup, loadCoreModule());
  } catch (e) {
    if (e instanceof ConfigError || e instanceof ImageError) console.error(`webhvm: ${e.message}`);
    else console.error(`webhvm: ${(e as Error).message ?? e}`);
    return EXIT_BAD_INPUT;
  }

  const stdinListener = (chunk: Buffer) => machine.serial[0].receive(new Uint8Array(chunk));
  if (config.serial.console) {
    process.stdin.on('data', stdinListener);
    process.stdin.resume();
  }
  let result;
  try {
    result = await runUntilEnd(machine, {
      until,
      timeoutSeconds,
      onPoweroff: config.onPoweroff,
      onReboot: config.onReboot,
      onCrash: config.onCrash,
      serialText: () => serialText,
      onNote: (m) => console.error(`\nwebhvm: ${m}`),
    });
  } finally {
    process.stdin.off('data', stdinListener);
    process.stdin.pause();
  }
  if (values.debugcon) writeFileSync(values.debugcon, debugText);
  if (values.screenshot) {
    const frame = machine.screenshot();
    writeFileSync(values.screenshot, encodePng(frame.width, frame.height, frame.rgba));
  }
  await closeImages();
  const code = exitCode(result.event, until !== undefined);
  if (result.error) console.error(`webhvm: emulator error: ${(result.error as Error).stack ?? result.error}`);
  if (code !== EXIT_OK) report(machine, serialText);
  console.log(`\nwebhvm: ${config.name} ended: ${result.event}`);
  return code;
}

function exitCode(event: EndEvent, hadUntil: boolean): number {
  switch (event) {
    case 'matched': return EXIT_OK;
    case 'poweroff': case 'reboot': return hadUntil ? EXIT_FAILED : EXIT_OK;
    case 'crash': return EXIT_CRASH;
    default: return EXIT_FAILED;
  }
}

/** On failure: the last VGA text screen and the last serial lines, to stderr. */
function report(machine: Machine, serial: string): void {
  const screen = machine.screenText();
  console.error('\n--- last screen ---');
  console.error(screen ? screen.join('\n').replace(/\s+$/, '') : '(graphics mode)');
  console.error('--- last serial lines ---');
  console.error(serial.split('\n').slice(-20).join('\n'));
  console.error(`--- cpu: ${machine.cpu.describe()}`);
}
