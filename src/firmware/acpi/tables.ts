/**
 * The ACPI tables besides the DSDT, and their layout in the two fw_cfg files SeaBIOS's
 * table-loader installs (as QEMU lays them out): etc/acpi/tables (FACS first, 64-byte aligned,
 * then DSDT, FADT, MADT, HPET, RSDT, XSDT) in high memory, and etc/acpi/rsdp in the F segment
 * where an OS searches for "RSD PTR ". Follows ACPI 2.0: section 5.2.4 (RSDP, revision 2 with an
 * XSDT), 5.2.7/5.2.8 (RSDT, XSDT), 5.2.9 (FADT revision 3, the 244-byte ACPI 2.0 layout with
 * 64-bit X_ blocks), 5.2.10 (FACS), 5.2.11.4 (MADT), and the IA-PC HPET specification 1.0a for
 * the HPET table.
 *
 * What the board shows: PM1a event/control blocks, the PM timer and GPE0 of the PIIX4; the SCI
 * on IRQ 9 (level, active high); the SMI command port 0xB2 with the ACPI enable/disable values
 * 0xF1/0xF0; the reset register (port 0xCF9, value 6); the RTC century byte at CMOS 0x32; a
 * MADT only when the board has APICs (one local APIC per vCPU, the I/O APIC, interrupt source
 * overrides IRQ 0 -> GSI 2 and level/active-high for the SCI and the PIRQ IRQs, LINT1 as NMI).
 *
 * Left out: FADT fields for features the board lacks (C2/C3, duty cycle, PM2, PM1b, GPE1, S4BIOS),
 * SRAT/SLIT (no NUMA), MCFG (no PCI Express), SSDTs.
 */
import { fixChecksum } from './checksum.ts';
import { buildDsdt } from './dsdt.ts';
import { ACPI_CHECKSUM_OFFSET, ACPI_HEADER_LENGTH, acpiTable, OEM_ID } from './table-header.ts';
import { isaIrqToGsi, levelTriggeredIsaIrqs, type BoardDescription } from '../board-description.ts';
import { LoaderZone, type LoaderCommand } from '../table-loader.ts';

export const ACPI_TABLES_FILE = 'etc/acpi/tables';
export const ACPI_RSDP_FILE = 'etc/acpi/rsdp';

export const FADT_REVISION = 3;
export const FADT_LENGTH = 244;
export const FACS_LENGTH = 64;
export const RSDP_LENGTH = 36;

// FADT field offsets (ACPI 2.0 table 5-9).
export const FADT = {
  FIRMWARE_CTRL: 36, DSDT: 40, INT_MODEL: 44, PREFERRED_PM_PROFILE: 45, SCI_INT: 46, SMI_CMD: 48, ACPI_ENABLE: 52,
  ACPI_DISABLE: 53, PM1A_EVT_BLK: 56, PM1A_CNT_BLK: 64, PM_TMR_BLK: 76, GPE0_BLK: 80, PM1_EVT_LEN: 88,
  PM1_CNT_LEN: 89, PM_TMR_LEN: 91, GPE0_BLK_LEN: 92, P_LVL2_LAT: 96, P_LVL3_LAT: 98, CENTURY: 108, IAPC_BOOT_ARCH: 109,
  FLAGS: 112, RESET_REG: 116, RESET_VALUE: 128, X_FIRMWARE_CTRL: 132, X_DSDT: 140, X_PM1A_EVT_BLK: 148,
  X_PM1A_CNT_BLK: 172, X_PM_TMR_BLK: 208, X_GPE0_BLK: 220,
} as const;

// FADT flags (ACPI 2.0 table 5-10).
export const FADT_WBINVD = 1 << 0;
export const FADT_PROC_C1 = 1 << 2;
export const FADT_SLP_BUTTON = 1 << 5;
export const FADT_RTC_S4 = 1 << 7;
export const FADT_RESET_REG_SUP = 1 << 10;
/** IAPC_BOOT_ARCH: ISA devices that need no enumeration (LEGACY_DEVICES) and an 8042. */
export const BOOT_ARCH_LEGACY_DEVICES = 1 << 0;
export const BOOT_ARCH_8042 = 1 << 1;

/** Generic Address Structure space IDs. */
const GAS_SYSTEM_IO = 1;

// MADT entry types (ACPI 2.0 table 5-21) and MPS INTI flags.
export const MADT_LOCAL_APIC = 0;
export const MADT_IO_APIC = 1;
export const MADT_INTERRUPT_OVERRIDE = 2;
export const MADT_LOCAL_APIC_NMI = 4;
export const MADT_PCAT_COMPAT = 1;
/** INTI flags: polarity bits 1:0 (1 = active high, 3 = active low), trigger bits 3:2 (1 = edge, 3 = level); 0 = conforms to the bus. */
export const INTI_CONFORMS = 0;
export const INTI_LEVEL_HIGH = 0x0d;

function writeGas(view: DataView, at: number, bitWidth: number, address: number): void {
  view.setUint8(at, GAS_SYSTEM_IO);
  view.setUint8(at + 1, bitWidth);
  view.setUint8(at + 2, 0);
  view.setUint8(at + 3, 0);
  view.setBigUint64(at + 4, BigInt(address), true);
}

/** The FACS: no waking vector, no global lock owner; its version field is 1 (ACPI 2.0). */
export function buildFacs(): Uint8Array {
  const facs = new Uint8Array(FACS_LENGTH);
  const view = new DataView(facs.buffer);
  facs.set([0x46, 0x41, 0x43, 0x53], 0); // "FACS"
  view.setUint32(4, FACS_LENGTH, true);
  facs[32] = 1;
  return facs;
}

/**
 * The FADT, with FIRMWARE_CTRL, DSDT and X_DSDT holding the FACS's and DSDT's offsets in
 * etc/acpi/tables (the table-loader adds the file's address). X_FIRMWARE_CTRL stays 0: one of the
 * two FACS pointers must be zero when both could be used (Linux warns on a mismatch).
 */
export function buildFadt(board: BoardDescription, facsOffset: number, dsdtOffset: number): Uint8Array {
  const body = new Uint8Array(FADT_LENGTH - ACPI_HEADER_LENGTH);
  const table = acpiTable('FACP', FADT_REVISION, body);
  const view = new DataView(table.buffer);
  const pm = board.pm;
  view.setUint32(FADT.FIRMWARE_CTRL, facsOffset, true);
  view.setUint32(FADT.DSDT, dsdtOffset, true);
  // ACPI 1.0's INT_MODEL (0 = dual PIC, 1 = APIC); ACPI 2.0 allows either value here.
  table[FADT.INT_MODEL] = board.apic ? 1 : 0;
  table[FADT.PREFERRED_PM_PROFILE] = 0;
  view.setUint16(FADT.SCI_INT, pm.sciIrq, true);
  view.setUint32(FADT.SMI_CMD, pm.smiCommand, true);
  table[FADT.ACPI_ENABLE] = pm.acpiEnable;
  table[FADT.ACPI_DISABLE] = pm.acpiDisable;
  view.setUint32(FADT.PM1A_EVT_BLK, pm.pm1aEvent, true);
  view.setUint32(FADT.PM1A_CNT_BLK, pm.pm1aControl, true);
  view.setUint32(FADT.PM_TMR_BLK, pm.pmTimer, true);
  view.setUint32(FADT.GPE0_BLK, pm.gpe0, true);
  table[FADT.PM1_EVT_LEN] = 4;
  table[FADT.PM1_CNT_LEN] = 2;
  table[FADT.PM_TMR_LEN] = 4;
  table[FADT.GPE0_BLK_LEN] = pm.gpe0Length;
  // Latencies above 100 and 1000 us say C2 and C3 are not supported.
  view.setUint16(FADT.P_LVL2_LAT, 0x0fff, true);
  view.setUint16(FADT.P_LVL3_LAT, 0x0fff, true);
  table[FADT.CENTURY] = pm.century;
  view.setUint16(FADT.IAPC_BOOT_ARCH, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042, true);
  // The PM timer is 24 bits (TMR_VAL_EXT clear); the power button is the fixed-feature one.
  view.setUint32(FADT.FLAGS, FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_RTC_S4 | FADT_RESET_REG_SUP, true);
  writeGas(view, FADT.RESET_REG, 8, pm.resetPort);
  table[FADT.RESET_VALUE] = pm.resetValue;
  view.setBigUint64(FADT.X_DSDT, BigInt(dsdtOffset), true);
  writeGas(view, FADT.X_PM1A_EVT_BLK, 32, pm.pm1aEvent);
  writeGas(view, FADT.X_PM1A_CNT_BLK, 16, pm.pm1aControl);
  writeGas(view, FADT.X_PM_TMR_BLK, 32, pm.pmTimer);
  writeGas(view, FADT.X_GPE0_BLK, pm.gpe0Length * 8, pm.gpe0);
  fixChecksum(table, ACPI_CHECKSUM_OFFSET);
  return table;
}

/** The MADT ("APIC"); only for a board with APICs. */
export function buildMadt(board: BoardDescription): Uint8Array {
  const ioApic = board.ioApic;
  if (!board.apic || !ioApic) throw new RangeError('a MADT describes APICs: the board has none (apic=0)');
  const entries: number[] = [];
  const u16 = (v: number) => [v & 0xff, v >>> 8];
  const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  for (const cpu of board.cpus) entries.push(MADT_LOCAL_APIC, 8, cpu.processorId, cpu.apicId, ...u32(1));
  entries.push(MADT_IO_APIC, 12, ioApic.id, 0, ...u32(ioApic.address), ...u32(ioApic.gsiBase));
  // IRQ 0 arrives at pin 2 (pin 0 is the 8259's ExtINT); edge, active high as ISA.
  entries.push(MADT_INTERRUPT_OVERRIDE, 10, 0, 0, ...u32(isaIrqToGsi(0)), ...u16(INTI_CONFORMS));
  for (const irq of levelTriggeredIsaIrqs(board)) {
    entries.push(MADT_INTERRUPT_OVERRIDE, 10, 0, irq, ...u32(isaIrqToGsi(irq)), ...u16(INTI_LEVEL_HIGH));
  }
  // LINT1 of every processor (0xFF) is the NMI input.
  entries.push(MADT_LOCAL_APIC_NMI, 6, 0xff, ...u16(INTI_CONFORMS), 1);
  const body = new Uint8Array(8 + entries.length);
  const view = new DataView(body.buffer);
  view.setUint32(0, board.localApicAddress, true);
  view.setUint32(4, MADT_PCAT_COMPAT, true);
  body.set(entries, 8);
  return acpiTable('APIC', 1, body);
}

/** The HPET description table (IA-PC HPET 1.0a, table 3). */
export function buildHpet(board: BoardDescription): Uint8Array {
  const hpet = board.hpet;
  if (!hpet) throw new RangeError('the board has no HPET');
  const body = new Uint8Array(20);
  const view = new DataView(body.buffer);
  view.setUint32(0, hpet.blockId, true);
  body[4] = 0; // system memory
  body[5] = 64;
  view.setBigUint64(8, BigInt(hpet.address), true);
  body[16] = 0; // HPET number
  view.setUint16(17, hpet.minimumTick, true);
  body[19] = 0; // no page protection
  return acpiTable('HPET', 1, body);
}

/** RSDT (4-byte) or XSDT (8-byte) entries, each holding a table's offset in etc/acpi/tables. */
function buildRootTable(signature: 'RSDT' | 'XSDT', offsets: number[]): Uint8Array {
  const width = signature === 'RSDT' ? 4 : 8;
  const body = new Uint8Array(offsets.length * width);
  const view = new DataView(body.buffer);
  offsets.forEach((o, i) => (width === 4 ? view.setUint32(i * 4, o, true) : view.setBigUint64(i * 8, BigInt(o), true)));
  return acpiTable(signature, 1, body);
}

/** The RSDP (revision 2): RSDT and XSDT fields hold offsets in etc/acpi/tables. */
export function buildRsdp(rsdtOffset: number, xsdtOffset: number): Uint8Array {
  const rsdp = new Uint8Array(RSDP_LENGTH);
  const view = new DataView(rsdp.buffer);
  rsdp.set(new TextEncoder().encode('RSD PTR '), 0);
  for (let i = 0; i < 6; i++) rsdp[9 + i] = i < OEM_ID.length ? OEM_ID.charCodeAt(i) : 0x20;
  rsdp[15] = 2;
  view.setUint32(16, rsdtOffset, true);
  view.setUint32(20, RSDP_LENGTH, true);
  view.setBigUint64(24, BigInt(xsdtOffset), true);
  fixChecksum(rsdp, 8, 0, 20);
  fixChecksum(rsdp, 32, 0, RSDP_LENGTH);
  return rsdp;
}

export interface AcpiTableSet {
  /** etc/acpi/tables and etc/acpi/rsdp, as the fw_cfg files hold them (before the loader patches them). */
  tables: Uint8Array;
  rsdp: Uint8Array;
  /** Where each table starts in `tables`, by signature. */
  offsets: Record<string, number>;
  /** The loader commands that install them. */
  commands: LoaderCommand[];
}

/** Every ACPI table of the board, laid out in the two files, with the loader commands. */
export function buildAcpiTables(board: BoardDescription): AcpiTableSet {
  if (!board.acpi) throw new RangeError('acpi=0: the board has no ACPI tables');
  const parts: Uint8Array[] = [];
  const offsets: Record<string, number> = {};
  let size = 0;
  const place = (signature: string, table: Uint8Array) => {
    offsets[signature] = size;
    parts.push(table);
    size += table.length;
  };
  place('FACS', buildFacs());
  place('DSDT', buildDsdt(board));
  place('FACP', buildFadt(board, offsets.FACS, offsets.DSDT));
  const listed = ['FACP'];
  if (board.apic) {
    place('APIC', buildMadt(board));
    listed.push('APIC');
  }
  if (board.hpet) {
    place('HPET', buildHpet(board));
    listed.push('HPET');
  }
  place('RSDT', buildRootTable('RSDT', listed.map((s) => offsets[s])));
  place('XSDT', buildRootTable('XSDT', listed.map((s) => offsets[s])));
  const tables = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    tables.set(p, at);
    at += p.length;
  }
  const rsdp = buildRsdp(offsets.RSDT, offsets.XSDT);

  const T = ACPI_TABLES_FILE;
  const commands: LoaderCommand[] = [
    // The FACS must be 64-byte aligned; it is first in the file.
    { command: 'allocate', file: T, align: 64, zone: LoaderZone.High },
    { command: 'allocate', file: ACPI_RSDP_FILE, align: 16, zone: LoaderZone.FSeg },
  ];
  const pointer = (table: string, field: number, size: 4 | 8) =>
    commands.push({ command: 'add-pointer', destFile: T, srcFile: T, offset: offsets[table] + field, size });
  const checksum = (table: string) => {
    const start = offsets[table];
    const length = new DataView(tables.buffer).getUint32(start + 4, true);
    commands.push({ command: 'add-checksum', file: T, offset: start + ACPI_CHECKSUM_OFFSET, start, length });
  };
  checksum('DSDT');
  pointer('FACP', FADT.FIRMWARE_CTRL, 4);
  pointer('FACP', FADT.DSDT, 4);
  pointer('FACP', FADT.X_DSDT, 8);
  checksum('FACP');
  if (board.apic) checksum('APIC');
  if (board.hpet) checksum('HPET');
  listed.forEach((_, i) => pointer('RSDT', ACPI_HEADER_LENGTH + 4 * i, 4));
  checksum('RSDT');
  listed.forEach((_, i) => pointer('XSDT', ACPI_HEADER_LENGTH + 8 * i, 8));
  checksum('XSDT');
  commands.push(
    { command: 'add-pointer', destFile: ACPI_RSDP_FILE, srcFile: T, offset: 16, size: 4 },
    { command: 'add-pointer', destFile: ACPI_RSDP_FILE, srcFile: T, offset: 24, size: 8 },
    { command: 'add-checksum', file: ACPI_RSDP_FILE, offset: 8, start: 0, length: 20 },
    { command: 'add-checksum', file: ACPI_RSDP_FILE, offset: 32, start: 0, length: RSDP_LENGTH },
  );
  return { tables, rsdp, offsets, commands };
}
