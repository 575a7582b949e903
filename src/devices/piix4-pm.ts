/**
 * The power-management function of the Intel 82371AB PIIX4 (8086:7113), placed as QEMU's "pc"
 * machine places it: PCI function 00:01.3 next to a PIIX3. Follows the 82371AB PIIX4 datasheet
 * (order 290562), section 3.4 (function 3 configuration registers) and 7 (power management I/O
 * registers), as ACPI 1.0 describes them: the PM1 event and control registers, and the 24-bit
 * ACPI PM timer at PMBA+8 counting at 3.579545 MHz.
 *
 * QEMU conventions kept because SeaBIOS and QEMU's ACPI tables rely on them: the GPE0 block at
 * port 0xAFE0 (4 bytes), the APM control/status ports 0xB2/0xB3 where 0xF1/0xF0 turn SCI_EN on
 * and off (QEMU's FADT names these as ACPI_ENABLE/ACPI_DISABLE), and DEVACTB bit 25 (APMC_EN)
 * set at reset so SeaBIOS sees SMM as already set up and does not try to install a handler.
 *
 * Left out: SMM and SMI generation (0xB2 writes are reported through `onSmiCommand`), the SMBus
 * host controller (its base and enable registers are stored only), the device monitors and
 * traps, throttling and C2/C3 (P_LVL2/P_LVL3 read 0 and do nothing), GPIO, and the
 * "global" registers beyond storing them. The SCI is not gated by SCI_EN: without an SMI handler
 * there is nobody else to deliver those events to (QEMU does the same).
 */
import type { AccessRange } from '../bus/access-range.ts';
import type { Clock, TimerHandle } from '../bus/clock.ts';
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { IoBus } from '../bus/io-bus.ts';
import type { IrqLine } from '../bus/irq-line.ts';
import type { PciFunction, PciFunctionInfo } from '../bus/pci.ts';
import type { IrqSource, PciBus } from '../bus/pci-bus.ts';

export interface Piix4PmOptions {
  pci: PciBus;
  io: IoBus;
  clock: Clock;
  /** The SCI: ISA IRQ 9 on the "pc" machine (shared, level-triggered, active high as the PIC sees it). */
  sci: IrqLine;
  /** PCI device and function number; 1 and 3 as on QEMU's "pc". */
  device?: number;
  fn?: number;
  /** Base port of the GPE0 block (QEMU: 0xAFE0). */
  gpeBase?: number;
  /**
   * The guest set SLP_EN with sleep type `slpTyp` (PMCNTRL bits 12:10). On PIIX4 and QEMU type 0
   * is soft off (S5: the machine powers off) and type 1 suspend to RAM (S3).
   */
  onSleep?: (slpTyp: number) => void;
  /** A byte written to the APM control port 0xB2 (the SMI command port in the FADT). */
  onSmiCommand?: (value: number) => void;
  /** SCI_EN changed: the OS finished (or undid) the ACPI enable handshake. */
  onSciEnableChange?: (enabled: boolean) => void;
}

export const PM_TIMER_HZ = 3_579_545;
export const SLP_TYP_SOFF = 0;
export const SLP_TYP_STR = 1;
export const ACPI_ENABLE = 0xf1;
export const ACPI_DISABLE = 0xf0;

// PM1 status bits (PMSTS, PMBA+0).
export const PM1_TMR_STS = 0x0001;
export const PM1_BM_STS = 0x0010;
export const PM1_GBL_STS = 0x0020;
export const PM1_PWRBTN_STS = 0x0100;
export const PM1_RTC_STS = 0x0400;
export const PM1_PWRBTNOR_STS = 0x0800;
export const PM1_WAK_STS = 0x8000;
const PM1_STS_BITS = PM1_TMR_STS | PM1_BM_STS | PM1_GBL_STS | PM1_PWRBTN_STS | PM1_RTC_STS | PM1_PWRBTNOR_STS | PM1_WAK_STS;
/** Enable bits (PMEN, PMBA+2) for the events that can raise an SCI. */
const PM1_EN_BITS = 0x0521;

// PM1 control (PMCNTRL, PMBA+4).
export const PM1_SCI_EN = 0x0001;
const PM1_BM_RLD = 0x0002;
/** GBL_RLS (bit 2) would signal the SMI handler; it is write-only and not stored. */
const PM1_SLP_TYP = 0x1c00;
const PM1_SLP_EN = 0x2000;

const PMBA = 0x40;
const DEVACTB = 0x58;
const PMREGMISC = 0x80;
const SMBBA = 0x90;
const SMBHSTCFG = 0xd2;
const PM_IO_SIZE = 64;
const TIMER_TOGGLE = 1 << 23;
const TIMER_MASK = 0xffffff;
const APM_CONTROL = 0xb2;

export class Piix4Pm implements Device, PciFunction {
  readonly name = 'piix4-pm';
  readonly info: PciFunctionInfo = { vendorId: 0x8086, deviceId: 0x7113, classCode: 0x068000, revision: 0x03, interruptPin: 1 };
  readonly config = new Uint8Array(256);
  private readonly io: IoBus;
  private readonly clock: Clock;
  private readonly sci: IrqSource;
  private readonly onSleep?: (slpTyp: number) => void;
  private readonly onSmiCommand?: (value: number) => void;
  private readonly onSciEnableChange?: (enabled: boolean) => void;

  private status = 0;
  private enable = 0;
  private control = 0;
  /** The other registers of the PM I/O block, stored as written. */
  private readonly misc = new Uint8Array(PM_IO_SIZE);
  private gpeStatus = 0;
  private gpeEnable = 0;
  private apmControl = 0;
  private apmStatus = 0;
  /** Timer count (unwrapped) at which bit 23 next toggles. */
  private nextToggle = 0;
  private toggleEvent?: TimerHandle;
  private pmRange?: AccessRange;

  constructor(options: Piix4PmOptions) {
    this.io = options.io;
    this.clock = options.clock;
    this.sci = options.sci.source();
    this.onSleep = options.onSleep;
    this.onSmiCommand = options.onSmiCommand;
    this.onSciEnableChange = options.onSciEnableChange;
    options.pci.addFunction(options.device ?? 1, options.fn ?? 3, this, { status: 0x0280 });
    options.io.register({
      owner: this.name,
      base: APM_CONTROL,
      length: 2,
      read: (offset) => (offset === 0 ? this.apmControl : this.apmStatus),
      write: (offset, _size, value) => (offset === 0 ? this.writeApmControl(value) : (this.apmStatus = value)),
    });
    options.io.register({
      owner: `${this.name} GPE0`,
      base: options.gpeBase ?? 0xafe0,
      length: 4,
      read: (offset) => ((offset < 2 ? this.gpeStatus : this.gpeEnable) >> ((offset & 1) * 8)) & 0xff,
      write: (offset, _size, value) => this.writeGpe(offset, value),
    });
    this.nextToggle = this.nextToggleAfter(this.ticks());
    this.resetRegisters();
  }

  /** The PM timer value the guest reads at PMBA+8. */
  timerValue(): number {
    return this.ticks() & TIMER_MASK;
  }

  /** True once the OS switched the chipset to ACPI mode (PM1 control SCI_EN). */
  get sciEnabled(): boolean {
    return (this.control & PM1_SCI_EN) !== 0;
  }

  /** The power button was pressed: PWRBTN_STS, and an SCI if the guest enabled it. */
  pressPowerButton(): void {
    this.status |= PM1_PWRBTN_STS;
    this.updateSci();
  }

  /** The machine resumed from a sleep state: WAK_STS tells the guest it woke up. */
  wake(): void {
    this.status |= PM1_WAK_STS;
    this.updateSci();
  }

  /** A general-purpose event (GPE0 status bit 0-15) for the ACPI tables' _Exx methods. */
  raiseGpe(bit: number): void {
    this.gpeStatus |= (1 << (bit & 15)) & 0xffff;
    this.updateSci();
  }

  configWrite(offset: number, size: 1 | 2 | 4, value: number): boolean {
    if (offset < 0x40) return false;
    let remap = false;
    for (let i = 0; i < size; i++) {
      const reg = offset + i;
      const byte = (value >>> (8 * i)) & 0xff;
      if (reg >= PMBA && reg < PMBA + 4) {
        // PMBA: bits 15:6 hold the base of the 64-byte block; bit 0 reads 1 (I/O space).
        this.config[reg] = reg === PMBA ? (byte & 0xc0) | 1 : reg === PMBA + 1 ? byte : 0;
        remap = true;
      } else if (reg === PMREGMISC) {
        this.config[reg] = byte & 1;
        remap = true;
      } else if (reg >= SMBBA && reg < SMBBA + 4) {
        this.config[reg] = reg === SMBBA ? (byte & 0xf0) | 1 : reg === SMBBA + 1 ? byte : 0;
      } else {
        this.config[reg] = byte;
      }
    }
    if (remap) this.updatePmIo();
    return true;
  }

  reset(): void {
    this.resetRegisters();
  }

  saveState(): DeviceState {
    this.refreshTimerStatus();
    return {
      version: 1,
      registers: this.config.slice(0x40),
      status: this.status,
      enable: this.enable,
      control: this.control,
      misc: this.misc.slice(),
      gpeStatus: this.gpeStatus,
      gpeEnable: this.gpeEnable,
      apmControl: this.apmControl,
      apmStatus: this.apmStatus,
      nextToggle: this.nextToggle,
    };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    this.config.set((state.registers as Uint8Array).subarray(0, 0xc0), 0x40);
    this.status = Number(state.status) & PM1_STS_BITS;
    this.enable = Number(state.enable) & PM1_EN_BITS;
    this.control = Number(state.control) & (PM1_SCI_EN | PM1_BM_RLD | PM1_SLP_TYP);
    this.misc.set((state.misc as Uint8Array).subarray(0, PM_IO_SIZE));
    this.gpeStatus = Number(state.gpeStatus) & 0xffff;
    this.gpeEnable = Number(state.gpeEnable) & 0xffff;
    this.apmControl = Number(state.apmControl) & 0xff;
    this.apmStatus = Number(state.apmStatus) & 0xff;
    this.nextToggle = Number(state.nextToggle);
    this.updatePmIo();
    this.scheduleToggle();
    this.updateSci();
  }

  private resetRegisters(): void {
    this.config.fill(0, 0x40);
    this.config[PMBA] = 1;
    this.config[SMBBA] = 1;
    this.config[DEVACTB + 3] = 0x02; // APMC_EN: "SMM already initialised" for SeaBIOS
    this.status = 0;
    this.enable = 0;
    this.control = 0;
    this.misc.fill(0);
    this.gpeStatus = 0;
    this.gpeEnable = 0;
    this.apmControl = 0;
    this.apmStatus = 0;
    this.refreshTimerStatus();
    this.status = 0;
    this.updatePmIo();
    this.scheduleToggle();
    this.updateSci();
  }

  /** Registers the PM I/O block at PMBA while PMREGMISC enables it. */
  private updatePmIo(): void {
    const base = (this.config[PMBA] | (this.config[PMBA + 1] << 8)) & 0xffc0;
    const on = (this.config[PMREGMISC] & 1) !== 0 && base !== 0;
    if (this.pmRange && on && this.pmRange.base === base) return;
    if (this.pmRange) this.io.unregister(this.pmRange);
    this.pmRange = undefined;
    if (!on) return;
    const range: AccessRange = {
      owner: this.name,
      base,
      length: PM_IO_SIZE,
      sizes: 1,
      read: (offset) => this.readPmByte(offset),
      write: (offset, _size, value) => this.writePmByte(offset, value),
    };
    try {
      this.io.register(range);
      this.pmRange = range;
    } catch {
      // The guest placed the block over another device's ports; it stays undecoded until moved.
    }
  }

  private readPmByte(offset: number): number {
    switch (offset) {
      case 0:
      case 1:
        this.refreshTimerStatus();
        return (this.status >> ((offset & 1) * 8)) & 0xff;
      case 2:
      case 3:
        return (this.enable >> ((offset & 1) * 8)) & 0xff;
      case 4:
      case 5:
        return (this.control >> ((offset & 1) * 8)) & 0xff;
      case 8:
      case 9:
      case 10:
      case 11:
        return (this.timerValue() >>> ((offset - 8) * 8)) & 0xff;
      case 0x14:
      case 0x15:
        return 0; // P_LVL2/P_LVL3: a read would enter C2/C3
      default:
        return this.misc[offset];
    }
  }

  private writePmByte(offset: number, value: number): void {
    const shift = (offset & 1) * 8;
    switch (offset) {
      case 0:
      case 1:
        this.refreshTimerStatus();
        this.status &= ~((value << shift) & PM1_STS_BITS);
        break;
      case 2:
      case 3:
        this.enable = ((this.enable & ~(0xff << shift)) | (value << shift)) & PM1_EN_BITS;
        this.scheduleToggle();
        break;
      case 4:
      case 5: {
        const written = value << shift;
        this.setControl(((this.control & ~(0xff << shift)) | written) & (PM1_SCI_EN | PM1_BM_RLD | PM1_SLP_TYP));
        // GBL_RLS would signal the SMI handler: there is none. SLP_EN acts and reads back 0.
        if (written & PM1_SLP_EN) this.onSleep?.((this.control & PM1_SLP_TYP) >> 10);
        break;
      }
      case 8:
      case 9:
      case 10:
      case 11:
        break; // the timer is read-only
      default:
        this.misc[offset] = value;
    }
    this.updateSci();
  }

  private writeApmControl(value: number): void {
    this.apmControl = value;
    this.onSmiCommand?.(value);
    // Without SMM the chipset answers the enable handshake itself, as QEMU does.
    if (value === ACPI_ENABLE) this.setControl(this.control | PM1_SCI_EN);
    else if (value === ACPI_DISABLE) this.setControl(this.control & ~PM1_SCI_EN);
  }

  private setControl(value: number): void {
    const changed = (value ^ this.control) & PM1_SCI_EN;
    this.control = value;
    if (changed) this.onSciEnableChange?.((value & PM1_SCI_EN) !== 0);
  }

  private writeGpe(offset: number, value: number): void {
    const shift = (offset & 1) * 8;
    if (offset < 2) this.gpeStatus &= ~(value << shift);
    else this.gpeEnable = (this.gpeEnable & ~(0xff << shift)) | (value << shift);
    this.updateSci();
  }

  private updateSci(): void {
    const pm1 = (this.status & this.enable & PM1_EN_BITS) !== 0;
    const gpe = (this.gpeStatus & this.gpeEnable) !== 0;
    this.sci.set(pm1 || gpe);
  }

  /** Timer ticks since time 0, unwrapped. Split so the product stays an exact integer. */
  private ticks(): number {
    const ns = this.clock.now();
    const seconds = Math.floor(ns / 1e9);
    return seconds * PM_TIMER_HZ + Math.floor(((ns - seconds * 1e9) * PM_TIMER_HZ) / 1e9);
  }

  /** The first guest nanosecond at which the timer reads `tick` or more. */
  private nsForTick(tick: number): number {
    const seconds = Math.floor(tick / PM_TIMER_HZ);
    const rest = tick - seconds * PM_TIMER_HZ;
    return seconds * 1e9 + Math.ceil((rest * 1e9) / PM_TIMER_HZ);
  }

  private nextToggleAfter(tick: number): number {
    return (Math.floor(tick / TIMER_TOGGLE) + 1) * TIMER_TOGGLE;
  }

  /** TMR_STS is set when bit 23 of the count toggles; work that out when someone looks. */
  private refreshTimerStatus(): void {
    const now = this.ticks();
    if (now >= this.nextToggle) {
      this.status |= PM1_TMR_STS;
      this.nextToggle = this.nextToggleAfter(now);
    }
  }

  /** An event at the next toggle only while the guest wants the SCI for it. */
  private scheduleToggle(): void {
    this.clock.cancel(this.toggleEvent);
    this.toggleEvent = undefined;
    if (!(this.enable & PM1_TMR_STS)) return;
    this.toggleEvent = this.clock.schedule(this.nsForTick(this.nextToggle), () => {
      this.toggleEvent = undefined;
      this.refreshTimerStatus();
      this.updateSci();
      this.scheduleToggle();
    });
  }
}
