/**
 * Everything the device model hands SeaBIOS (1.16, QEMU mode) so that the guest sees exactly the
 * tables its acpi/apic/vcpus configuration calls for, as Xen's hvmloader would show them:
 *
 * | acpi | apic | RSDP and ACPI tables      | MADT | MP table | PIIX4 PM function |
 * |------|------|---------------------------|------|----------|-------------------|
 * | 0    | 0    | none                      | no   | no       | absent            |
 * | 0    | 1    | none                      | no   | ours     | absent            |
 * | 1    | 0    | ours (no APIC routing)    | no   | no       | present           |
 * | 1    | 1    | ours                      | yes  | ours     | present           |
 *
 * How SeaBIOS is steered (src/fw/paravirt.c qemu_platform_setup, rel-1.16.2):
 * - It builds its own $PIR and MP table whenever MaxCountCPUs <= 255; MaxCountCPUs is the larger
 *   of fw_cfg's FW_CFG_MAX_CPUS ("etc/max-cpus") and the CPU count. FW_CFG_MAX_CPUS = 256 turns
 *   both off (there is no other switch), so the MP table, when there is one, is ours, installed by
 *   the table-loader in the F segment. Side effects of 256, all harmless here: SeaBIOS would put
 *   CPUs in x2APIC mode only if CPUID offered x2APIC (it does not), and its own fallback SMBIOS
 *   (used only without etc/smbios/smbios-tables) would list 256 processors.
 * - It runs etc/table-loader, then looks for an RSDP; if the loader installed one it stops there.
 *   Otherwise it builds its own ACPI tables, but only if it finds the PIIX4 power-management
 *   function (8086:7113): with acpi=0 the machine must leave that function off the PCI bus, as
 *   QEMU does with -no-acpi. (With acpi=0 and apic=1 the loader installs only the MP table, and
 *   SeaBIOS logs a harmless "internal error" warning on its debug port for the missing RSDP.)
 * - The mere presence of etc/table-loader moves SeaBIOS's PM base from 0xB000 to 0x600, the
 *   address the FADT names.
 */
import { FW_CFG_MAX_CPUS, type FwCfg } from '../devices/fw-cfg.ts';
import { ACPI_RSDP_FILE, ACPI_TABLES_FILE, buildAcpiTables } from './acpi/tables.ts';
import type { BoardDescription } from './board-description.ts';
import { buildMpTable, MP_TABLE_FILE, mpTableLoaderCommands } from './mp-table.ts';
import { encodeTableLoader, TABLE_LOADER_FILE, type LoaderCommand } from './table-loader.ts';

/** FW_CFG_MAX_CPUS value that keeps SeaBIOS from building its own MP table and $PIR. */
export const SEABIOS_NO_LEGACY_TABLES_MAX_CPUS = 256;

export interface FirmwareFile {
  name: string;
  data: Uint8Array;
}

export interface FirmwareTables {
  /** fw_cfg files to add (etc/table-loader and the files it loads); none for acpi=0 apic=0. */
  files: FirmwareFile[];
  /** The value of the legacy FW_CFG_MAX_CPUS item (key 0x000F). */
  maxCpus: number;
  /** Whether the PIIX4 power-management function (00:01.3) must be on the PCI bus. */
  powerManagementFunction: boolean;
  /** The loader script, decoded (what etc/table-loader holds). */
  commands: LoaderCommand[];
}

export function firmwareTablesFor(board: BoardDescription): FirmwareTables {
  const files: FirmwareFile[] = [];
  const commands: LoaderCommand[] = [];
  if (board.acpi) {
    const acpi = buildAcpiTables(board);
    files.push({ name: ACPI_TABLES_FILE, data: acpi.tables }, { name: ACPI_RSDP_FILE, data: acpi.rsdp });
    commands.push(...acpi.commands);
  }
  if (board.apic) {
    const mp = buildMpTable(board);
    files.push({ name: MP_TABLE_FILE, data: mp });
    commands.push(...mpTableLoaderCommands(mp));
  }
  if (commands.length) files.push({ name: TABLE_LOADER_FILE, data: encodeTableLoader(commands) });
  return { files, maxCpus: SEABIOS_NO_LEGACY_TABLES_MAX_CPUS, powerManagementFunction: board.acpi, commands };
}

/**
 * Adds the files to fw_cfg and sets FW_CFG_MAX_CPUS. Call after installFirmwareConfig (which
 * sets FW_CFG_MAX_CPUS to the CPU count; this overrides it).
 */
export function installFirmwareTables(fwCfg: FwCfg, tables: FirmwareTables): void {
  for (const f of tables.files) fwCfg.addFile(f.name, f.data);
  fwCfg.setNumeric(FW_CFG_MAX_CPUS, tables.maxCpus, 2);
}
