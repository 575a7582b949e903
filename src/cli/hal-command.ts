/**
 * NODE-ONLY: `webhvm hal <config> [--json]`: the Windows HAL a Windows 2000/XP/2003 Setup would
 * choose for this configuration (halFor), its Linux equivalent, and a summary of what the
 * firmware will show the guest (tables, CPUs, APICs, interrupt routing, ACPI power management).
 * Reads only the configuration file: disk images need not exist.
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, formatDiagnostic } from '../config/diagnostics.ts';
import { readDomainConfigFile } from '../config/resolve-node.ts';
import { describeMachineBoard } from '../firmware/board-description.ts';
import { formatFirmwareSummary, summarizeFirmware } from '../firmware/firmware-summary.ts';

export async function halCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  } catch (e) {
    console.error(`webhvm hal: ${(e as Error).message}`);
    return 2;
  }
  if (parsed.positionals.length !== 1) {
    console.error('webhvm hal: expected exactly one configuration file');
    return 2;
  }
  const path = parsed.positionals[0];
  try {
    const { config, warnings } = await readDomainConfigFile(path);
    for (const w of warnings) console.error(`webhvm: ${formatDiagnostic(basename(path), w)}`);
    const summary = summarizeFirmware(describeMachineBoard({ acpi: config.acpi, apic: config.apic, vcpus: config.vcpus, ramMiB: config.memoryMiB }));
    console.log(parsed.values.json ? JSON.stringify({ name: config.name, ...summary }, null, 2) : formatFirmwareSummary(config.name, summary));
    return 0;
  } catch (e) {
    console.error(`webhvm: ${e instanceof ConfigError ? e.message : ((e as Error).message ?? e)}`);
    return 2;
  }
}
