/**
 * NODE-ONLY: `webhvm tables <config> --out DIR`: writes the firmware tables this configuration
 * gets as binary files, one per table, as an OS would find them in memory: the table-loader
 * script is run against a notional layout like SeaBIOS's (etc/acpi/tables at the top of RAM, the
 * RSDP and the MP table in the F segment), so pointers hold addresses and every checksum is right.
 * ACPI tables are named by signature (dsdt.dat, facp.dat, apic.dat, ...), which `iasl -d` reads
 * (all but rsdp.dat: iasl takes no bare RSDP);
 * the MP table (floating pointer + configuration table) is mptable.bin. DIR/tables.txt lists
 * each file with its address and length. Reads only the configuration file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, formatDiagnostic } from '../config/diagnostics.ts';
import { readDomainConfigFile } from '../config/resolve-node.ts';
import { describeMachineBoard } from '../firmware/board-description.ts';
import { firmwareTablesFor } from '../firmware/firmware-tables.ts';
import { placeFirmwareFiles, splitAcpiTables, type PlacedFile } from '../firmware/table-placement.ts';
import { ACPI_RSDP_FILE, ACPI_TABLES_FILE } from '../firmware/acpi/tables.ts';
import { MP_TABLE_FILE } from '../firmware/mp-table.ts';

/** Where SeaBIOS's F-segment allocations typically start (its "fseg" zone). */
const FSEG_START = 0xf5000;

export async function tablesCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { out: { type: 'string' } } });
  } catch (e) {
    console.error(`webhvm tables: ${(e as Error).message}`);
    return 2;
  }
  const out = parsed.values.out;
  if (parsed.positionals.length !== 1 || !out) {
    console.error('webhvm tables: usage: webhvm tables <config> --out DIR');
    return 2;
  }
  const path = parsed.positionals[0];
  let config;
  try {
    const result = await readDomainConfigFile(path);
    for (const w of result.warnings) console.error(`webhvm: ${formatDiagnostic(basename(path), w)}`);
    config = result.config;
  } catch (e) {
    console.error(`webhvm: ${e instanceof ConfigError ? e.message : ((e as Error).message ?? e)}`);
    return 2;
  }
  const board = describeMachineBoard({ acpi: config.acpi, apic: config.apic, vcpus: config.vcpus, ramMiB: config.memoryMiB });
  const tables = firmwareTablesFor(board);
  const placed = placeFirmwareFiles(tables.files, tables.commands, { highTop: config.memoryMiB * 1024 * 1024, fsegStart: FSEG_START });
  const written: { file: string; table: PlacedFile }[] = [];
  const rsdp = placed.get(ACPI_RSDP_FILE);
  if (rsdp) written.push({ file: 'rsdp.dat', table: { ...rsdp, name: 'RSDP' } });
  const acpi = placed.get(ACPI_TABLES_FILE);
  if (acpi) for (const t of splitAcpiTables(acpi)) written.push({ file: `${t.name.toLowerCase()}.dat`, table: t });
  const mp = placed.get(MP_TABLE_FILE);
  if (mp) written.push({ file: 'mptable.bin', table: { ...mp, name: 'MP+PCMP' } });

  try {
    mkdirSync(out, { recursive: true });
    for (const w of written) writeFileSync(join(out, w.file), w.table.data);
    const listing = written.map((w) => `${w.file.padEnd(12)} ${w.table.name.padEnd(16)} 0x${w.table.address.toString(16).toUpperCase().padStart(8, '0')} ${w.table.data.length} bytes`);
    const note = written.length
      ? '# Addresses are a notional placement like SeaBIOS\'s; the real ones are in the boot-path trace (webhvm run --trace-boot).'
      : '# acpi=0 apic=0: the firmware shows no ACPI tables and no MP table.';
    writeFileSync(join(out, 'tables.txt'), [`# ${config.name}: acpi=${config.acpi ? 1 : 0} apic=${config.apic ? 1 : 0} vcpus=${config.vcpus}`, note, ...listing].join('\n') + '\n');
  } catch (e) {
    console.error(`webhvm tables: cannot write to ${out}: ${(e as Error).message}`);
    return 1;
  }
  console.log(written.length ? `wrote ${written.map((w) => w.file).join(', ')} to ${out}` : `${config.name}: no firmware tables (acpi=0 apic=0); wrote ${join(out, 'tables.txt')}`);
  return 0;
}
