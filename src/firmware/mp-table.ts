/**
 * The MultiProcessor Specification 1.4 tables (Intel order 242016-006, chapter 4): the 16-byte
 * floating pointer structure ("_MP_") and the configuration table ("PCMP") with, in the order the
 * specification requires, one processor entry per vCPU, the PCI and ISA bus entries, the I/O
 * APIC, the I/O interrupt assignments and the local interrupt assignments. It is what an OS
 * without ACPI (Windows' HALAPIC/HALMPS, Linux with acpi=off) learns the APIC wiring from.
 *
 * Both structures go in one fw_cfg file, etc/mptable, which the table-loader places in the F
 * segment (where the specification tells an OS to search), patches the floating pointer's
 * address field and fixes both checksums: floating pointer at offset 0, configuration table at 16.
 *
 * Interrupt assignments of this board (see board-description.ts):
 * - PCI bus: every slot pin to I/O APIC pin 16 + its PIRQ (slot 1 INTA#, the SCI, to pin 9),
 *   source bus IRQ = slot << 2 | pin, conforming to the bus (level, active low).
 * - ISA bus: IRQ 0 to pin 2 (pin 0 carries ExtINT); IRQ 1, 3-15 to the pin of the same number,
 *   except the PIRQ IRQs (5, 10, 11) and the SCI, which are level-triggered active high as in
 *   the MADT. IRQ 2 is the cascade and has no entry.
 * - ExtINT to LINT0 of the bootstrap processor (virtual wire mode; the IMCR is not present), NMI
 *   to LINT1 of every processor. No I/O interrupt entry names ExtINT on I/O APIC pin 0: SeaBIOS
 *   leaves that pin unprogrammed, and Linux reports an MP table that claims otherwise ("ExtINT
 *   not setup in hardware but reported by MP table").
 *
 * Left out: the extended table (system address space mapping, bus hierarchy), OEM tables, and
 * the default configurations (feature byte 1 is 0: a configuration table is present).
 */
import { fixChecksum } from './acpi/checksum.ts';
import { isaIrqToGsi, levelTriggeredIsaIrqs, type BoardDescription } from './board-description.ts';
import { LoaderZone, type LoaderCommand } from './table-loader.ts';

export const MP_TABLE_FILE = 'etc/mptable';
export const MP_FLOATING_LENGTH = 16;
export const MP_CONFIG_HEADER_LENGTH = 44;
export const MP_SPEC_REVISION = 4;

// Entry types and sizes (MPS 1.4 table 4-3).
export const MP_PROCESSOR = 0;
export const MP_BUS = 1;
export const MP_IO_APIC = 2;
export const MP_IO_INTERRUPT = 3;
export const MP_LOCAL_INTERRUPT = 4;
// Interrupt types (table 4-9).
export const MP_INT = 0;
export const MP_NMI = 1;
export const MP_EXTINT = 3;
/** Flags: polarity bits 1:0, trigger bits 3:2; 0 = conforms to the bus; 0x0D = level, active high. */
export const MP_CONFORMS = 0;
export const MP_LEVEL_HIGH = 0x0d;

export const MP_PCI_BUS_ID = 0;
export const MP_ISA_BUS_ID = 1;
const ALL_LOCAL_APICS = 0xff;

function ascii(out: number[], text: string, width: number): void {
  for (let i = 0; i < width; i++) out.push(i < text.length ? text.charCodeAt(i) : 0x20);
}
const u16 = (v: number) => [v & 0xff, (v >>> 8) & 0xff];
const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

function interrupt(type: number, intType: number, flags: number, bus: number, busIrq: number, destination: number, pin: number): number[] {
  return [type, intType, ...u16(flags), bus, busIrq, destination, pin];
}

/** The configuration table's entries, in the specification's order. */
function entries(board: BoardDescription): { bytes: number[]; count: number } {
  const ioApic = board.ioApic!;
  const out: number[] = [];
  let count = 0;
  board.cpus.forEach((cpu, i) => {
    // Flags: bit 0 enabled, bit 1 the bootstrap processor.
    out.push(MP_PROCESSOR, cpu.apicId, board.localApicVersion, 0x01 | (i === 0 ? 0x02 : 0), ...u32(board.cpuSignature), ...u32(board.cpuFeatures), ...u32(0), ...u32(0));
    count++;
  });
  out.push(MP_BUS, MP_PCI_BUS_ID);
  ascii(out, 'PCI', 6);
  out.push(MP_BUS, MP_ISA_BUS_ID);
  ascii(out, 'ISA', 6);
  count += 2;
  out.push(MP_IO_APIC, ioApic.id, ioApic.version, 0x01, ...u32(ioApic.address));
  count++;

  const level = new Set(levelTriggeredIsaIrqs(board));
  for (let irq = 0; irq < 16; irq++) {
    if (irq === 2) continue; // the cascade: no device behind it
    out.push(...interrupt(MP_IO_INTERRUPT, MP_INT, level.has(irq) ? MP_LEVEL_HIGH : MP_CONFORMS, MP_ISA_BUS_ID, irq, ioApic.id, isaIrqToGsi(irq)));
    count++;
  }
  for (const s of board.pciSlots) {
    s.pins.forEach((route, pin) => {
      const gsi = 'sci' in route ? board.pm.sciIrq : board.pirqGsiBase + (route.pirq & 3);
      const flags = 'sci' in route ? MP_LEVEL_HIGH : MP_CONFORMS;
      out.push(...interrupt(MP_IO_INTERRUPT, MP_INT, flags, MP_PCI_BUS_ID, (s.slot << 2) | pin, ioApic.id, gsi - ioApic.gsiBase));
      count++;
    });
  }
  out.push(...interrupt(MP_LOCAL_INTERRUPT, MP_EXTINT, MP_CONFORMS, MP_ISA_BUS_ID, 0, board.cpus[0].apicId, 0));
  out.push(...interrupt(MP_LOCAL_INTERRUPT, MP_NMI, MP_CONFORMS, MP_ISA_BUS_ID, 0, ALL_LOCAL_APICS, 1));
  count += 2;
  return { bytes: out, count };
}

/**
 * etc/mptable: the floating pointer (its physical-address field holding 16, the configuration
 * table's offset in the file) followed by the configuration table, checksums correct as stored.
 */
export function buildMpTable(board: BoardDescription): Uint8Array {
  if (!board.apic || !board.ioApic) throw new RangeError('apic=0: the board has no MP table');
  const { bytes, count } = entries(board);
  const configLength = MP_CONFIG_HEADER_LENGTH + bytes.length;
  if (configLength > 0xffff || count > 0xffff) throw new RangeError('MP configuration table too large');
  const header: number[] = [0x50, 0x43, 0x4d, 0x50, ...u16(configLength), MP_SPEC_REVISION, 0];
  ascii(header, 'WEBHVM', 8);
  ascii(header, 'i440FX-PIIX3', 12);
  header.push(...u32(0), ...u16(0), ...u16(count), ...u32(board.localApicAddress), ...u16(0), 0, 0);

  const file = new Uint8Array(MP_FLOATING_LENGTH + configLength);
  file.set([0x5f, 0x4d, 0x50, 0x5f], 0); // "_MP_"
  new DataView(file.buffer).setUint32(4, MP_FLOATING_LENGTH, true);
  file[8] = 1; // length in 16-byte paragraphs
  file[9] = MP_SPEC_REVISION;
  // Feature bytes 1-5 are 0: a configuration table exists; no IMCR (virtual wire mode).
  file.set(header, MP_FLOATING_LENGTH);
  file.set(bytes, MP_FLOATING_LENGTH + MP_CONFIG_HEADER_LENGTH);
  fixChecksum(file, MP_FLOATING_LENGTH + 7, MP_FLOATING_LENGTH, configLength);
  fixChecksum(file, 10, 0, MP_FLOATING_LENGTH);
  return file;
}

/** The loader commands that place etc/mptable in the F segment and link it. */
export function mpTableLoaderCommands(file: Uint8Array): LoaderCommand[] {
  const configLength = new DataView(file.buffer, file.byteOffset).getUint16(MP_FLOATING_LENGTH + 4, true);
  return [
    { command: 'allocate', file: MP_TABLE_FILE, align: 16, zone: LoaderZone.FSeg },
    { command: 'add-pointer', destFile: MP_TABLE_FILE, srcFile: MP_TABLE_FILE, offset: 4, size: 4 },
    // The configuration table holds no pointers; its checksum is recomputed anyway, harmlessly.
    { command: 'add-checksum', file: MP_TABLE_FILE, offset: MP_FLOATING_LENGTH + 7, start: MP_FLOATING_LENGTH, length: configLength },
    { command: 'add-checksum', file: MP_TABLE_FILE, offset: 10, start: 0, length: MP_FLOATING_LENGTH },
  ];
}
