/**
 * Intel 82441FX PCI and Memory Controller (PMC), the host bridge of the i440FX chipset, as PCI
 * function 00:00.0. Follows the 82441FX/82442FX datasheet (order 290549): configuration
 * mechanism #1 (CONFADD at 0xCF8, CONFDATA at 0xCFC), the PAM shadow registers and the SMRAM
 * register, with the register reset values of section 3.
 *
 * Left out: DRAM and cache timing (the registers store what is written and do nothing), error
 * reporting, configuration mechanism #2, and SMRAM: there is no SMM, so the SMRAM window stays
 * closed and 0xA0000-0xBFFFF always goes to the PCI bus (the VGA). The register keeps its value
 * and honours D_LCK so firmware reads back what it expects.
 *
 * Port 0xCF9 sits inside the CONFADD dword but belongs to the PIIX3 (reset control register):
 * byte accesses to it are passed to the `resetControl` option.
 */
import type { AccessSize } from '../bus/access-range.ts';
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { IoBus } from '../bus/io-bus.ts';
import type { PciFunction, PciFunctionInfo } from '../bus/pci.ts';
import type { PciBus } from '../bus/pci-bus.ts';

export interface I440fxHostBridgeOptions {
  io: IoBus;
  pci: PciBus;
  /**
   * A PAM segment changed: reads of [base, base + length) go to RAM when `readRam` (else to the
   * PCI bus, i.e. the BIOS ROM), writes go to RAM when `writeRam` (else to the PCI bus, where ROM
   * ignores them).
   */
  onPamChange?: (base: number, length: number, readRam: boolean, writeRam: boolean) => void;
  /** The PIIX3 reset control register at 0xCF9, reached by byte accesses. */
  resetControl?: { read(): number; write(value: number): void };
}

export const I440FX_PAM0 = 0x59;
export const I440FX_SMRAM = 0x72;

/** CONFADD bits that exist: enable (31), bus (23:16), device (15:11), function (10:8), register (7:2). */
const CONFADD_MASK = 0x80fffffc;

const SMRAM_D_OPEN = 0x40;
const SMRAM_D_LCK = 0x10;
/** C_BASE_SEG is hardwired to 010 (SMRAM at 0xA0000). */
const SMRAM_C_BASE_SEG = 0x02;
const SMRAM_WRITABLE = 0x78;

/** Reset values of the device-specific registers (82441FX datasheet, register summary). */
const REGISTER_RESET: [number, number][] = [
  [0x51, 0x01], // DETURBO / PMCCFG high byte
  [0x53, 0x80], // DBC: data buffering control
  [0x57, 0x01], // DRAMC
  [0x58, 0x10], // DRAMT
  [0x60, 0x02], [0x61, 0x02], [0x62, 0x02], [0x63, 0x02], // DRB0-7: no rows populated
  [0x64, 0x02], [0x65, 0x02], [0x66, 0x02], [0x67, 0x02],
  [I440FX_SMRAM, SMRAM_C_BASE_SEG],
];

interface PamSegment {
  register: number;
  shift: number;
  base: number;
  length: number;
}

/** 0xF0000 as one 64 KiB segment (PAM0 bits 5:4), then 0xC0000-0xEFFFF in 16 KiB halves of PAM1-6. */
const PAM_SEGMENTS: PamSegment[] = [{ register: I440FX_PAM0, shift: 4, base: 0xf0000, length: 0x10000 }];
for (let i = 0; i < 12; i++) {
  PAM_SEGMENTS.push({ register: I440FX_PAM0 + 1 + (i >> 1), shift: (i & 1) * 4, base: 0xc0000 + i * 0x4000, length: 0x4000 });
}

export class I440fxHostBridge implements Device, PciFunction {
  readonly name = 'i440fx';
  readonly info: PciFunctionInfo = { vendorId: 0x8086, deviceId: 0x1237, classCode: 0x060000, revision: 0x02 };
  readonly config = new Uint8Array(256);
  private readonly pci: PciBus;
  private readonly onPamChange?: I440fxHostBridgeOptions['onPamChange'];
  private readonly resetControl?: I440fxHostBridgeOptions['resetControl'];
  private confAdd = 0;
  /** The RE/WE pair last reported for each PAM segment. */
  private reportedPam = new Array<number>(PAM_SEGMENTS.length).fill(0);

  constructor(options: I440fxHostBridgeOptions) {
    this.pci = options.pci;
    this.onPamChange = options.onPamChange;
    this.resetControl = options.resetControl;
    this.pci.addFunction(0, 0, this, { command: 0x0006, status: 0x0280 });
    options.io.register({
      owner: this.name,
      base: 0xcf8,
      length: 4,
      sizes: 1 | 2 | 4,
      read: (offset, size) => this.readConfAdd(offset, size),
      write: (offset, size, value) => this.writeConfAdd(offset, size, value),
    });
    options.io.register({
      owner: this.name,
      base: 0xcfc,
      length: 4,
      sizes: 1 | 2 | 4,
      read: (offset, size) => this.readConfData(offset, size),
      write: (offset, size, value) => this.writeConfData(offset, size, value),
    });
    this.resetRegisters();
  }

  /** The current state of every PAM segment, for the machine's initial memory map. */
  pamSegments(): { base: number; length: number; readRam: boolean; writeRam: boolean }[] {
    return PAM_SEGMENTS.map((seg) => {
      const attr = (this.config[seg.register] >> seg.shift) & 3;
      return { base: seg.base, length: seg.length, readRam: (attr & 1) !== 0, writeRam: (attr & 2) !== 0 };
    });
  }

  configWrite(offset: number, size: 1 | 2 | 4, value: number): boolean {
    const end = offset + size;
    if (end <= I440FX_PAM0 || offset > I440FX_SMRAM) return false;
    // Store byte by byte so PAM and SMRAM get their masks; other bytes of a wide write are kept as written.
    for (let i = 0; i < size; i++) {
      const reg = offset + i;
      const byte = (value >>> (8 * i)) & 0xff;
      if (reg === I440FX_PAM0) this.config[reg] = byte & 0x70;
      else if (reg > I440FX_PAM0 && reg <= I440FX_PAM0 + 6) this.config[reg] = byte & 0x77;
      else if (reg === I440FX_SMRAM) this.writeSmram(byte);
      else this.config[reg] = byte;
    }
    this.reportPam(false);
    return true;
  }

  reset(): void {
    this.confAdd = 0;
    this.resetRegisters();
  }

  saveState(): DeviceState {
    return { version: 1, confAdd: this.confAdd, registers: this.config.slice(0x40) };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    this.confAdd = (Number(state.confAdd) & CONFADD_MASK) >>> 0;
    this.config.set((state.registers as Uint8Array).subarray(0, 0xc0), 0x40);
    this.reportPam(true);
  }

  private resetRegisters(): void {
    this.config.fill(0, 0x40);
    for (const [reg, value] of REGISTER_RESET) this.config[reg] = value;
    this.reportPam(false);
  }

  private writeSmram(byte: number): void {
    const old = this.config[I440FX_SMRAM];
    let next = (old & ~SMRAM_WRITABLE) | (byte & SMRAM_WRITABLE) | SMRAM_C_BASE_SEG;
    if (old & SMRAM_D_LCK) next |= SMRAM_D_LCK; // D_LCK sticks until reset...
    if (next & SMRAM_D_LCK) next &= ~SMRAM_D_OPEN; // ...and forces D_OPEN off.
    this.config[I440FX_SMRAM] = next;
  }

  private reportPam(all: boolean): void {
    PAM_SEGMENTS.forEach((seg, i) => {
      const attr = (this.config[seg.register] >> seg.shift) & 3;
      if (!all && attr === this.reportedPam[i]) return;
      this.reportedPam[i] = attr;
      this.onPamChange?.(seg.base, seg.length, (attr & 1) !== 0, (attr & 2) !== 0);
    });
  }

  private readConfAdd(offset: number, size: AccessSize): number {
    if (size === 4 && offset === 0) return this.confAdd;
    if (size === 1 && offset === 1 && this.resetControl) return this.resetControl.read() & 0xff;
    // Narrower accesses are not CONFADD cycles: they go out to ISA, where nothing answers.
    return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }

  private writeConfAdd(offset: number, size: AccessSize, value: number): void {
    if (size === 4 && offset === 0) this.confAdd = (value & CONFADD_MASK) >>> 0;
    else if (size === 1 && offset === 1) this.resetControl?.write(value & 0xff);
  }

  private readConfData(offset: number, size: AccessSize): number {
    if (!(this.confAdd & 0x80000000)) return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    const [bus, device, fn, reg] = this.decode();
    return this.pci.configRead(bus, device, fn, reg + offset, size);
  }

  private writeConfData(offset: number, size: AccessSize, value: number): void {
    if (!(this.confAdd & 0x80000000)) return;
    const [bus, device, fn, reg] = this.decode();
    this.pci.configWrite(bus, device, fn, reg + offset, size, value);
  }

  private decode(): [number, number, number, number] {
    const a = this.confAdd;
    return [(a >>> 16) & 0xff, (a >>> 11) & 0x1f, (a >>> 8) & 7, a & 0xfc];
  }
}
