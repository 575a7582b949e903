/**
 * Which Windows HAL and which Linux interrupt mode follow from what the firmware shows for an
 * acpi/apic/vcpus configuration (the table in docs/domain-config.md, "The Windows HAL and the
 * acpi/apic/vcpus settings", and docs/acpi.md). Windows Setup picks the HAL from the tables:
 * an RSDP gives an ACPI HAL, a MADT (ACPI) or MP table (no ACPI) an APIC HAL, more than one
 * processor entry a multiprocessor HAL.
 */

export interface HalConfig {
  acpi: boolean;
  apic: boolean;
  vcpus: number;
}

export interface HalChoice {
  /** The HAL file Windows 2000/XP/2003 Setup installs. */
  file: 'HAL.DLL' | 'HALAPIC.DLL' | 'HALMPS.DLL' | 'HALACPI.DLL' | 'HALAACPI.DLL' | 'HALMACPI.DLL';
  /** Its name in Setup's computer-type list (F5 at the F6 prompt). */
  setupName: string;
  /** What the firmware tables contain. */
  tables: { rsdp: boolean; madt: boolean; mpTable: boolean };
  /** How Linux delivers interrupts: "XT-PIC" or "IO-APIC" in /proc/interrupts. */
  linuxInterrupts: 'XT-PIC' | 'IO-APIC';
  /** Whether Linux runs ACPI (as if booted with acpi=off when false). */
  linuxAcpi: boolean;
}

/** The HAL for a configuration. Throws for vcpus > 1 with apic=0, which config validation refuses. */
export function halFor(config: HalConfig): HalChoice {
  const { acpi, apic, vcpus } = config;
  if (!Number.isInteger(vcpus) || vcpus < 1) throw new RangeError(`vcpus ${vcpus} is not a CPU count`);
  if (!apic && vcpus > 1) throw new RangeError(`${vcpus} vCPUs need apic=1: without APICs there is no SMP`);
  const mp = vcpus > 1;
  const tables = { rsdp: acpi, madt: acpi && apic, mpTable: apic };
  const linuxInterrupts = apic ? 'IO-APIC' : 'XT-PIC';
  if (acpi) {
    if (!apic) return { file: 'HALACPI.DLL', setupName: 'Advanced Configuration and Power Interface (ACPI) PC', tables, linuxInterrupts, linuxAcpi: true };
    return mp
      ? { file: 'HALMACPI.DLL', setupName: 'ACPI Multiprocessor PC', tables, linuxInterrupts, linuxAcpi: true }
      : { file: 'HALAACPI.DLL', setupName: 'ACPI Uniprocessor PC', tables, linuxInterrupts, linuxAcpi: true };
  }
  if (!apic) return { file: 'HAL.DLL', setupName: 'Standard PC', tables, linuxInterrupts, linuxAcpi: false };
  return mp
    ? { file: 'HALMPS.DLL', setupName: 'MPS Multiprocessor PC', tables, linuxInterrupts, linuxAcpi: false }
    : { file: 'HALAPIC.DLL', setupName: 'MPS Uniprocessor PC', tables, linuxInterrupts, linuxAcpi: false };
}
