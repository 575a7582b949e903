/**
 * The Differentiated System Description Table of this board, generated as AML from the board
 * description (ACPI 2.0 chapter 5.2.7; the objects of chapter 6). What it contains:
 * - \_S5 (soft off: SLP_TYP 0 on the PIIX4).
 * - \_PR.CPxx: one Processor object per vCPU, its ID matching the MADT (no P_BLK: no C2/C3 or
 *   throttling).
 * - \_SB.PCI0 (PNP0A03): its bus, I/O and memory windows, and the PCI interrupt routing table.
 *   With an I/O APIC there are two: \_PIC(1) (the OS runs the I/O APIC) makes _PRT return GSIs
 *   16-19 for PIRQA-D; \_PIC(0) or no call returns the link devices. Without an I/O APIC there is
 *   no \_PIC method at all and _PRT is a constant list of link devices: an OS has no APIC routing
 *   to choose (and without a MADT it would never call \_PIC(1) anyway).
 * - \_SB.LNKA-LNKD (PNP0C0F): the PIIX3 PIRQ route registers (PCI configuration 0x60-0x63 of
 *   00:01.0) as link devices with _STA/_PRS/_CRS/_SRS/_DIS; \_SB.LNKS: the SCI (IRQ 9, fixed),
 *   where slot 1 INTA# (the PIIX4 power-management function) goes.
 * - \_SB.PCI0.ISA: the ISA devices with their fixed resources (PIC, DMA, PIT, RTC, speaker, math
 *   coprocessor, keyboard, mouse, COM ports, floppy, motherboard resources), and the HPET when
 *   the board has one. SeaBIOS reads this DSDT too: without a PNP0303 device it would skip the
 *   PS/2 keyboard.
 *
 * Left out: sleep states other than S5 (no S3 resume path), CPU and PCI hot plug, power button
 * devices (the fixed-feature power button is used), thermal zones.
 */
import {
  and, concat, createDWordField, device, dword, eisaId, FieldAccess, FieldUpdate, field, ifOp, integer, lNot, method,
  name, nameString, operationRegion, or, packageOf, processor, ref, RegionSpace, returnOp, scope, store, string, arg,
  ZERO, type Aml,
} from './aml-encoder.ts';
import {
  dma8, dwordMemory, EXTENDED_INTERRUPT_NUMBER_OFFSET, extendedInterrupt, ioPort, irqNoFlags, memory32Fixed,
  resourceTemplate, wordBusNumber, wordIo, type InterruptFlags,
} from './resources.ts';
import { acpiTable } from './table-header.ts';
import type { BoardDescription, IsaDeviceDescription } from '../board-description.ts';

/** DSDT revision 1: 32-bit integers, as Windows 2000/XP expect. */
export const DSDT_REVISION = 1;

const LINK_NAMES = ['LNKA', 'LNKB', 'LNKC', 'LNKD'];
const ROUTE_REGISTERS = ['PRQA', 'PRQB', 'PRQC', 'PRQD'];
/** PIRQ route register bit 7: the PIRQ is not routed. */
const ROUTE_DISABLED = 0x80;
/** _STA values: present, enabled, functioning (0x0B) and present, functioning but disabled (0x09). */
const STA_ENABLED = 0x0b;
const STA_DISABLED = 0x09;
/** PCI interrupts as the PIC and I/O APIC pins of this board see them: level, active high, shared. */
const PCI_LEVEL: InterruptFlags = { edge: false, activeLow: false, shared: true };

/** The object name of CPU `index` (CP00, CP01, ...). */
export function processorName(index: number): string {
  return `CP${index.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Builds the DSDT (with its header and checksum) for `board`. Requires board.acpi. */
export function buildDsdt(board: BoardDescription): Uint8Array {
  return acpiTable('DSDT', DSDT_REVISION, dsdtBody(board));
}

function dsdtBody(board: BoardDescription): Aml {
  const terms: Aml[] = [];
  const s5 = board.pm.sleepTypeSoftOff;
  terms.push(name('\\_S5', packageOf(integer(s5), integer(s5), ZERO, ZERO)));
  if (board.apic) {
    // The OS says which interrupt model it uses; _PRT answers accordingly.
    terms.push(name('\\PICF', ZERO));
    terms.push(method('\\_PIC', 1, false, store(arg(0), ref('\\PICF'))));
  }
  terms.push(scope('\\_PR', ...board.cpus.map((cpu, i) => processor(processorName(i), cpu.processorId, 0, 0))));
  terms.push(scope('\\_SB', pci0(board), ...linkDevices(board)));
  terms.push(scope('\\_GPE', name('_HID', string('ACPI0006'))));
  return concat(...terms);
}

function pci0(board: BoardDescription): Aml {
  const crs = resourceTemplate(
    wordBusNumber(0x00, 0xff),
    ioPort(0xcf8, 8),
    wordIo(0x0000, 0x0cf7),
    wordIo(0x0d00, 0xffff),
    dwordMemory(0x000a0000, 0x000bffff),
    dwordMemory(board.pciMemoryStart, board.pciMemoryEnd),
  );
  const body: Aml[] = [
    // Only _HID: a device names itself by _HID or by _ADR, not both.
    name('_HID', eisaId('PNP0A03')),
    name('_UID', ZERO),
    name('_BBN', ZERO),
    name('_CRS', crs),
    name('PRTP', picRouting(board)),
  ];
  if (board.apic) {
    body.push(name('PRTA', apicRouting(board)));
    body.push(method('_PRT', 0, false, ifOp(ref('\\PICF'), returnOp(ref('PRTA'))), returnOp(ref('PRTP'))));
  } else {
    body.push(method('_PRT', 0, false, returnOp(ref('PRTP'))));
  }
  body.push(isaBridge(board));
  return device('PCI0', ...body);
}

/** One _PRT entry: Package { address (slot << 16 | 0xFFFF), pin, source, source index }. */
function prtEntry(slot: number, pin: number, source: Aml, index: number): Aml {
  return packageOf(dword(((slot << 16) | 0xffff) >>> 0), integer(pin), source, integer(index));
}

function picRouting(board: BoardDescription): Aml {
  const entries: Aml[] = [];
  for (const s of board.pciSlots) {
    s.pins.forEach((route, pin) => {
      const link = 'sci' in route ? '\\_SB.LNKS' : `\\_SB.${LINK_NAMES[route.pirq & 3]}`;
      entries.push(prtEntry(s.slot, pin, nameString(link), 0));
    });
  }
  return packageOf(...entries);
}

function apicRouting(board: BoardDescription): Aml {
  const entries: Aml[] = [];
  for (const s of board.pciSlots) {
    s.pins.forEach((route, pin) => {
      const gsi = 'sci' in route ? board.pm.sciIrq : board.pirqGsiBase + (route.pirq & 3);
      entries.push(prtEntry(s.slot, pin, ZERO, gsi));
    });
  }
  return packageOf(...entries);
}

function isaBridge(board: BoardDescription): Aml {
  const children = board.isaDevices.map(isaDevice);
  if (board.hpet) {
    children.push(device('HPET',
      name('_HID', eisaId('PNP0103')),
      name('_UID', ZERO),
      name('_CRS', resourceTemplate(memory32Fixed(board.hpet.address, 0x400, false)))));
  }
  return device('ISA',
    name('_ADR', dword(0x00010000)),
    operationRegion('PIRQ', RegionSpace.PCI_Config, 0x60, 4),
    field('PIRQ', FieldAccess.ByteAcc, false, FieldUpdate.Preserve, ROUTE_REGISTERS.map((n) => ({ name: n, bits: 8 }))),
    ...children);
}

function isaDevice(d: IsaDeviceDescription): Aml {
  const resources = d.io.map((r) => ioPort(r.base, r.length));
  if (d.irqs.length) resources.push(irqNoFlags(d.irqs));
  if (d.dma.length) resources.push(dma8(d.dma));
  const terms = [name('_HID', eisaId(d.hid))];
  if (d.uid !== undefined) terms.push(name('_UID', integer(d.uid)));
  terms.push(name('_CRS', resourceTemplate(...resources)));
  return device(d.name, ...terms);
}

function linkDevices(board: BoardDescription): Aml[] {
  const links = LINK_NAMES.map((link, pirq) => {
    const reg = ref(`\\_SB.PCI0.ISA.${ROUTE_REGISTERS[pirq]}`);
    return device(link,
      name('_HID', eisaId('PNP0C0F')),
      name('_UID', integer(pirq + 1)),
      name('_PRS', resourceTemplate(extendedInterrupt(PCI_LEVEL, board.pirqIrqs))),
      method('_STA', 0, false,
        ifOp(and(reg, integer(ROUTE_DISABLED)), returnOp(integer(STA_DISABLED))),
        returnOp(integer(STA_ENABLED))),
      method('_DIS', 0, false, or(reg, integer(ROUTE_DISABLED), reg)),
      method('_CRS', 0, true,
        name('PRR0', resourceTemplate(extendedInterrupt(PCI_LEVEL, [0]))),
        createDWordField(ref('PRR0'), integer(EXTENDED_INTERRUPT_NUMBER_OFFSET), 'PRRI'),
        ifOp(lNot(and(reg, integer(ROUTE_DISABLED))), store(and(reg, integer(0x0f)), ref('PRRI'))),
        returnOp(ref('PRR0'))),
      method('_SRS', 1, true,
        createDWordField(arg(0), integer(EXTENDED_INTERRUPT_NUMBER_OFFSET), 'PRRI'),
        store(ref('PRRI'), reg)));
  });
  // The SCI's "link": fixed at the SCI interrupt, cannot be moved or turned off.
  const sci = resourceTemplate(extendedInterrupt(PCI_LEVEL, [board.pm.sciIrq]));
  links.push(device('LNKS',
    name('_HID', eisaId('PNP0C0F')),
    name('_UID', integer(LINK_NAMES.length + 1)),
    name('_STA', integer(STA_ENABLED)),
    name('_PRS', sci),
    name('_CRS', sci),
    method('_SRS', 1, false),
    method('_DIS', 0, false)));
  return links;
}
