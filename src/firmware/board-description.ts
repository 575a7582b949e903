/**
 * A plain-data description of the board that the firmware tables (ACPI, MP table) describe to
 * the guest: the CPUs and their APIC IDs, the I/O APIC, how PCI interrupts are wired, the ACPI
 * power-management ports, and the ISA devices with their resources. The tables are built from
 * this description only, so they can never disagree with one another; the machine builds one
 * with `describeBoard` from the validated configuration and wires its devices to match it.
 *
 * The wiring is QEMU's "pc" board (i440FX + PIIX3 + PIIX4 power management), which is what
 * Xen's HVM device model shows as well:
 * - PCI slot d, pin p (0 = INTA#) drives PIRQ[(d + p) & 3]; the PIIX3 routes each PIRQ to an ISA
 *   IRQ (PIRQRC registers at 0x60-0x63 of 00:01.0); the BIOS and the ACPI link devices LNKA-LNKD
 *   pick from IRQs 5, 10 and 11.
 * - With an I/O APIC, PIRQA-D also drive I/O APIC pins 16-19 directly (GSI 16-19), which is the
 *   routing the tables give an OS in APIC mode.
 * - Slot 1 INTA# is the PIIX4 power-management function's pin; its interrupt is the SCI,
 *   hard-wired to IRQ 9 (GSI 9), not a PIRQ. With acpi=0 there is no such function and the pin
 *   follows the usual swizzle.
 * - ISA IRQ 0 (the PIT) arrives at I/O APIC pin 2; pin 0 carries the 8259's INTR (ExtINT).
 */

export interface CpuDescription {
  /** The ACPI processor ID (Processor object and MADT), 0..n-1. */
  processorId: number;
  /** The initial local APIC ID (CPUID.1:EBX[31:24]). */
  apicId: number;
}

export interface IoApicDescription {
  id: number;
  address: number;
  /** Version register bits 7:0 (0x11: the 82093AA and QEMU's I/O APIC). */
  version: number;
  pins: number;
  /** First global system interrupt of pin 0. */
  gsiBase: number;
}

/** Where one PCI interrupt pin goes: a PIRQ (0-3 for A-D), or the SCI. */
export type PciPinRoute = { pirq: number } | { sci: true };

export interface PciSlotDescription {
  slot: number;
  /** Pins INTA#..INTD#, in that order. */
  pins: PciPinRoute[];
}

export interface IsaDeviceDescription {
  /** The ACPI object name (1-4 characters). */
  name: string;
  /** PnP ID, e.g. PNP0501. */
  hid: string;
  uid?: number;
  io: { base: number; length: number }[];
  irqs: number[];
  dma: number[];
  /** What it is, for the documentation and the disassembly. */
  what: string;
}

export interface PowerManagementDescription {
  /** PM1a event block (4 bytes: PM1 status and enable); the PIIX4 PMBA. */
  pm1aEvent: number;
  /** PM1a control block (2 bytes). */
  pm1aControl: number;
  /** The 24-bit ACPI PM timer (4 bytes). */
  pmTimer: number;
  /** GPE0 block (4 bytes: status and enable halves). */
  gpe0: number;
  gpe0Length: number;
  sciIrq: number;
  smiCommand: number;
  acpiEnable: number;
  acpiDisable: number;
  /** The FADT reset register (an I/O port, 8 bits wide) and the value that resets. */
  resetPort: number;
  resetValue: number;
  /** CMOS index of the RTC century byte. */
  century: number;
  /** SLP_TYP for soft off (S5) on the PIIX4. */
  sleepTypeSoftOff: number;
}

export interface HpetDescription {
  address: number;
  /** The General Capabilities and ID register's bits 31:0 (the ACPI HPET table's Event Timer Block ID). */
  blockId: number;
  minimumTick: number;
}

export interface BoardDescription {
  acpi: boolean;
  apic: boolean;
  cpus: CpuDescription[];
  localApicAddress: number;
  /** The local APIC version register bits 7:0 (the MP table's processor entries). */
  localApicVersion: number;
  /** CPUID leaf 1 EAX and EDX as the MP table's processor entries repeat them. */
  cpuSignature: number;
  cpuFeatures: number;
  /** Present exactly when apic is on. */
  ioApic?: IoApicDescription;
  /** GSI of PIRQA when PIRQs drive I/O APIC pins directly (16 on this board). */
  pirqGsiBase: number;
  /** The ISA IRQs a PIRQ may be routed to (the link devices' possible resources). */
  pirqIrqs: number[];
  pciSlots: PciSlotDescription[];
  /** The 32-bit PCI memory window: from the top of RAM below 4 GiB to just under the I/O APIC. */
  pciMemoryStart: number;
  pciMemoryEnd: number;
  pm: PowerManagementDescription;
  isaDevices: IsaDeviceDescription[];
  hpet?: HpetDescription;
}

export interface BoardOptions {
  acpi: boolean;
  apic: boolean;
  vcpus: number;
  /** Guest RAM below 4 GiB in bytes (the PCI memory window starts above it). */
  ramBytesBelow4G: number;
  /** Describe an HPET at 0xFED00000 (only if the machine has one). */
  hpet?: boolean;
  /** CPUID.1:EAX of the CPU model; the CPU core reports 0x683. */
  cpuSignature?: number;
  /** CPUID.1:EDX of the CPU model, for the MP table. */
  cpuFeatures?: number;
  /** COM ports the machine has, by number (1 = 0x3F8/IRQ 4, 2 = 0x2F8/IRQ 3). Default both. */
  comPorts?: number[];
  floppy?: boolean;
}

export const LOCAL_APIC_ADDRESS = 0xfee00000;
export const IO_APIC_ADDRESS = 0xfec00000;
export const HPET_ADDRESS = 0xfed00000;
/** The lowest address the PCI window may start at, as SeaBIOS places BARs (its BUILD_PCIMEM_START). */
const PCI_WINDOW_LOWEST = 0xe0000000;

/** The power-management ports of this board: QEMU's "pc" values, which SeaBIOS programs. */
export const POWER_MANAGEMENT: Readonly<PowerManagementDescription> = Object.freeze({
  pm1aEvent: 0x600,
  pm1aControl: 0x604,
  pmTimer: 0x608,
  gpe0: 0xafe0,
  gpe0Length: 4,
  sciIrq: 9,
  smiCommand: 0xb2,
  acpiEnable: 0xf1,
  acpiDisable: 0xf0,
  resetPort: 0xcf9,
  resetValue: 0x06,
  century: 0x32,
  sleepTypeSoftOff: 0,
});

/** CPUID.1:EDX bits of the CPU core (FPU DE PSE TSC MSR CX8 SEP MTRR PGE CMOV PAT MMX FXSR), APIC added when on. */
const BASE_CPU_FEATURES = 0x0181b93d;
const CPUID_APIC = 1 << 9;

const COM_PORTS: Record<number, { base: number; irq: number }> = { 1: { base: 0x3f8, irq: 4 }, 2: { base: 0x2f8, irq: 3 } };

/** PIRQ (0 = A) that PCI slot `slot`'s pin `pin` (0 = INTA#) drives on this board. */
export function pirqOf(slot: number, pin: number): number {
  return (slot + pin) & 3;
}

/** The I/O APIC pin (GSI) an ISA IRQ arrives at: identity, except the PIT's IRQ 0 at pin 2. */
export function isaIrqToGsi(irq: number): number {
  return irq === 0 ? 2 : irq;
}

/**
 * ISA IRQs that are level-triggered, active high in APIC mode: the SCI and the IRQs PIRQs can be
 * routed to (a routed PCI interrupt also reaches the I/O APIC pin of its ISA IRQ).
 */
export function levelTriggeredIsaIrqs(board: BoardDescription): number[] {
  const set = new Set(board.pirqIrqs);
  if (board.acpi) set.add(board.pm.sciIrq);
  return [...set].sort((a, b) => a - b);
}

export function describeBoard(options: BoardOptions): BoardDescription {
  const { acpi, apic, vcpus } = options;
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 255) throw new RangeError(`vcpus ${vcpus}: the tables describe 1-255 CPUs`);
  if (!apic && vcpus > 1) throw new RangeError(`${vcpus} vCPUs need apic=1: without local APICs there is no SMP`);
  const cpus: CpuDescription[] = [];
  for (let i = 0; i < vcpus; i++) cpus.push({ processorId: i, apicId: i });

  const pciSlots: PciSlotDescription[] = [];
  for (let slot = 1; slot < 32; slot++) {
    const pins: PciPinRoute[] = [];
    for (let pin = 0; pin < 4; pin++) pins.push(acpi && slot === 1 && pin === 0 ? { sci: true } : { pirq: pirqOf(slot, pin) });
    pciSlots.push({ slot, pins });
  }

  const isaDevices: IsaDeviceDescription[] = [
    { name: 'PIC', hid: 'PNP0000', io: [{ base: 0x20, length: 2 }, { base: 0xa0, length: 2 }], irqs: [2], dma: [], what: '8259 interrupt controllers' },
    { name: 'DMAC', hid: 'PNP0200', io: [{ base: 0x00, length: 16 }, { base: 0x81, length: 15 }, { base: 0xc0, length: 32 }], irqs: [], dma: [4], what: '8237 DMA controllers and page registers' },
    { name: 'TMR', hid: 'PNP0100', io: [{ base: 0x40, length: 4 }], irqs: [0], dma: [], what: '8254 interval timer' },
    { name: 'RTC', hid: 'PNP0B00', io: [{ base: 0x70, length: 2 }], irqs: [8], dma: [], what: 'MC146818 real-time clock' },
    { name: 'SPKR', hid: 'PNP0800', io: [{ base: 0x61, length: 1 }], irqs: [], dma: [], what: 'PC speaker (system control port B)' },
    { name: 'FPU', hid: 'PNP0C04', io: [{ base: 0xf0, length: 16 }], irqs: [13], dma: [], what: 'math coprocessor' },
    { name: 'KBD', hid: 'PNP0303', io: [{ base: 0x60, length: 1 }, { base: 0x64, length: 1 }], irqs: [1], dma: [], what: 'i8042 keyboard' },
    { name: 'MOU', hid: 'PNP0F13', io: [], irqs: [12], dma: [], what: 'PS/2 mouse' },
  ];
  for (const n of options.comPorts ?? [1, 2]) {
    const com = COM_PORTS[n];
    if (!com) throw new RangeError(`COM${n} is not a port this board has (COM1, COM2)`);
    isaDevices.push({ name: `COM${n}`, hid: 'PNP0501', uid: n, io: [{ base: com.base, length: 8 }], irqs: [com.irq], dma: [], what: `16550A UART (COM${n})` });
  }
  if (options.floppy ?? true) {
    isaDevices.push({ name: 'FDC0', hid: 'PNP0700', io: [{ base: 0x3f2, length: 4 }, { base: 0x3f7, length: 1 }], irqs: [6], dma: [2], what: 'floppy disk controller' });
  }
  // Ports the board decodes that no other device claims, so an OS never hands them out.
  const motherboard = [
    { base: 0x92, length: 1 }, // port 92 (fast A20 and reset)
    { base: 0x402, length: 1 }, // debug console
    { base: 0x510, length: 12 }, // fw_cfg selector, data and DMA address
  ];
  if (acpi) {
    motherboard.push(
      { base: POWER_MANAGEMENT.smiCommand, length: 2 }, // APM control and status
      { base: POWER_MANAGEMENT.pm1aEvent, length: 64 }, // PIIX4 PM I/O block
      { base: POWER_MANAGEMENT.gpe0, length: POWER_MANAGEMENT.gpe0Length },
    );
  }
  isaDevices.push({ name: 'SYSR', hid: 'PNP0C02', uid: 1, io: motherboard, irqs: [], dma: [], what: 'motherboard resources' });

  const ram = Math.max(0, Math.floor(options.ramBytesBelow4G));
  const pciMemoryStart = Math.max(PCI_WINDOW_LOWEST, Math.ceil(ram / 0x10000000) * 0x10000000);
  if (pciMemoryStart >= IO_APIC_ADDRESS) throw new RangeError(`${ram} bytes of RAM below 4 GiB leave no PCI memory window`);

  return {
    acpi,
    apic,
    cpus,
    localApicAddress: LOCAL_APIC_ADDRESS,
    localApicVersion: 0x14,
    cpuSignature: options.cpuSignature ?? 0x683,
    cpuFeatures: (options.cpuFeatures ?? BASE_CPU_FEATURES | (apic ? CPUID_APIC : 0)) >>> 0,
    ioApic: apic ? { id: vcpus, address: IO_APIC_ADDRESS, version: 0x11, pins: 24, gsiBase: 0 } : undefined,
    pirqGsiBase: 16,
    pirqIrqs: [5, 10, 11],
    pciSlots,
    pciMemoryStart,
    pciMemoryEnd: IO_APIC_ADDRESS - 1,
    pm: { ...POWER_MANAGEMENT },
    isaDevices,
    hpet: options.hpet ? { address: HPET_ADDRESS, blockId: 0x8086a201, minimumTick: 100 } : undefined,
  };
}

/** The settings of a Machine that decide its board. */
export interface MachineBoardOptions {
  acpi: boolean;
  apic: boolean;
  vcpus: number;
  ramMiB: number;
}

/**
 * The board the Machine builds for these settings (a floppy controller and both COM ports always
 * present). The machine and the `webhvm hal`/`tables` commands share it, so what the commands
 * show is what the guest gets.
 */
export function describeMachineBoard(options: MachineBoardOptions): BoardDescription {
  return describeBoard({ acpi: options.acpi, apic: options.apic, vcpus: options.vcpus, ramBytesBelow4G: options.ramMiB * 1024 * 1024, floppy: true });
}
