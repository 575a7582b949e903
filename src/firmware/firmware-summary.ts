/**
 * What the firmware will show a guest for an acpi/apic/vcpus configuration, in a few lines: the
 * HAL Windows Setup would pick (halFor), the tables, the CPUs and APICs, and how interrupts are
 * routed. Built from the same board description and table builders the machine uses, so it
 * cannot disagree with what the guest gets. `webhvm hal` prints it; the page can show it.
 */
import { levelTriggeredIsaIrqs, isaIrqToGsi, type BoardDescription } from './board-description.ts';
import { firmwareTablesFor } from './firmware-tables.ts';
import { halFor, type HalChoice } from './hal.ts';
import { placeFirmwareFiles, splitAcpiTables } from './table-placement.ts';
import { ACPI_TABLES_FILE } from './acpi/tables.ts';

export interface FirmwareSummary {
  acpi: boolean;
  apic: boolean;
  vcpus: number;
  hal: HalChoice;
  /** ACPI tables by signature (RSDP first), empty with acpi=0. */
  acpiTables: string[];
  mpTable: boolean;
  cpus: { processorId: number; apicId: number }[];
  localApicAddress?: number;
  ioApic?: { id: number; address: number; pins: number; gsiBase: number };
  /** One line per routing rule, in words. */
  interruptRouting: string[];
  /** One line about ACPI power management, or undefined with acpi=0. */
  powerManagement?: string;
  /** fw_cfg files SeaBIOS is handed. */
  fwCfgFiles: string[];
}

const hex = (v: number, digits = 0) => '0x' + v.toString(16).toUpperCase().padStart(digits, '0');

export function summarizeFirmware(board: BoardDescription): FirmwareSummary {
  const vcpus = board.cpus.length;
  const hal = halFor({ acpi: board.acpi, apic: board.apic, vcpus });
  const tables = firmwareTablesFor(board);
  let acpiTables: string[] = [];
  if (board.acpi) {
    const placed = placeFirmwareFiles(tables.files, tables.commands, { highTop: 0x1000000, fsegStart: 0xf0000 });
    acpiTables = ['RSDP', ...splitAcpiTables(placed.get(ACPI_TABLES_FILE)!).map((t) => t.name)];
  }
  const routing: string[] = [];
  const pirqs = board.pirqIrqs.join(', ');
  if (board.apic && board.ioApic) {
    const levels = levelTriggeredIsaIrqs(board);
    routing.push(`ISA IRQ 0 (PIT) -> I/O APIC pin ${isaIrqToGsi(0)}, edge; the 8259 INTR on pin 0 (ExtINT) and the BSP's LINT0`);
    routing.push(`ISA IRQ 1, 3-15 -> I/O APIC pin of the same number; IRQ ${levels.join(', ')} level, active high${board.acpi ? ` (IRQ ${board.pm.sciIrq} is the SCI)` : ''}`);
    routing.push(`PCI INTA-D -> PIRQA-D: I/O APIC pins ${board.pirqGsiBase}-${board.pirqGsiBase + 3} in APIC mode, ISA IRQ ${pirqs} through the PIIX3 in PIC mode`);
    routing.push('NMI on LINT1 of every processor');
    if (board.acpi) routing.push('ACPI _PRT: GSIs after _PIC(1), LNKA-LNKD before; MADT overrides IRQ 0 -> GSI 2 and the level IRQs');
    else routing.push('MP table: the same assignments (virtual wire mode, no IMCR)');
  } else {
    routing.push('8259 PIC pair only: ISA IRQ 0-15, IRQ 2 the cascade');
    routing.push(`PCI INTA-D -> PIRQA-D -> ISA IRQ ${pirqs} through the PIIX3${board.acpi ? ' (ACPI link devices LNKA-LNKD)' : ' (programmed by the BIOS)'}`);
    if (board.acpi) routing.push(`SCI on IRQ ${board.pm.sciIrq}, level (ELCR)`);
  }
  const pm = board.pm;
  return {
    acpi: board.acpi,
    apic: board.apic,
    vcpus,
    hal,
    acpiTables,
    mpTable: board.apic,
    cpus: board.cpus.map((c) => ({ processorId: c.processorId, apicId: c.apicId })),
    localApicAddress: board.apic ? board.localApicAddress : undefined,
    ioApic: board.ioApic && { id: board.ioApic.id, address: board.ioApic.address, pins: board.ioApic.pins, gsiBase: board.ioApic.gsiBase },
    interruptRouting: routing,
    powerManagement: board.acpi
      ? `PIIX4 PM at 00:01.3: PM1a event ${hex(pm.pm1aEvent)}, PM1a control ${hex(pm.pm1aControl)}, PM timer ${hex(pm.pmTimer)} (3.579545 MHz), ` +
        `GPE0 ${hex(pm.gpe0)}, SCI IRQ ${pm.sciIrq}, SMI command ${hex(pm.smiCommand)} (enable ${hex(pm.acpiEnable)}, disable ${hex(pm.acpiDisable)}), ` +
        `reset register ${hex(pm.resetPort)} = ${hex(pm.resetValue, 2)}, S5 = SLP_TYP ${pm.sleepTypeSoftOff}`
      : undefined,
    fwCfgFiles: tables.files.map((f) => f.name),
  };
}

/** The summary as the lines `webhvm hal` prints. */
export function formatFirmwareSummary(name: string, s: FirmwareSummary): string {
  const lines = [
    `${name}: acpi=${s.acpi ? 1 : 0} apic=${s.apic ? 1 : 0} vcpus=${s.vcpus}`,
    `Windows HAL:  ${s.hal.file} (${s.hal.setupName})`,
    `Linux:        ${s.hal.linuxInterrupts} in /proc/interrupts, ACPI ${s.hal.linuxAcpi ? 'interpreter enabled' : 'disabled (no RSDP)'}`,
    `ACPI tables:  ${s.acpiTables.length ? s.acpiTables.join(', ') : 'none (no RSDP)'}`,
    `MP table:     ${s.mpTable ? `yes (${s.vcpus} processor entr${s.vcpus === 1 ? 'y' : 'ies'}, the I/O APIC, ISA and PCI interrupt assignments)` : 'none'}`,
    `CPUs:         ${s.vcpus}${s.apic ? ` (local APIC IDs ${s.cpus.map((c) => c.apicId).join(', ')} at ${hex(s.localApicAddress!)})` : ' (no local APIC: CPUID APIC bit clear)'}`,
    `I/O APIC:     ${s.ioApic ? `ID ${s.ioApic.id} at ${hex(s.ioApic.address)}, ${s.ioApic.pins} pins, GSI ${s.ioApic.gsiBase}-${s.ioApic.gsiBase + s.ioApic.pins - 1}` : 'none'}`,
    'Interrupts:',
    ...s.interruptRouting.map((r) => `  ${r}`),
    `Power:        ${s.powerManagement ?? 'no ACPI power management (PIIX4 PM function absent)'}`,
    `fw_cfg:       ${s.fwCfgFiles.length ? s.fwCfgFiles.join(', ') : 'no table files'}`,
  ];
  return lines.join('\n');
}
