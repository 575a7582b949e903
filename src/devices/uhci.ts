/**
 * The USB function of the Intel 82371SB (PIIX3), PCI 8086:7020, class 0C0300h (serial bus, USB,
 * UHCI), as QEMU places it at 00:01.2: a Universal Host Controller with a two-port root hub,
 * its 32 bytes of I/O registers behind BAR4, interrupt pin D.
 *
 * Follows the Universal Host Controller Interface (UHCI) Design Guide, revision 1.1: USBCMD,
 * USBSTS, USBINTR, FRNUM, FRBASEADD, SOFMOD and PORTSC1/2 (section 2), and the schedule
 * (section 3): once per 1 ms frame the controller reads the frame list entry FRBASEADD +
 * 4 * FRNUM[9:0] and walks the transfer descriptors and queue heads it leads to, depth or
 * breadth first as each TD's link says; it writes back TD status and actual length and advances
 * queue element pointers; IOC and short-packet (SPD) interrupts are raised at the end of the
 * frame, errors (STALL, babble, time-outs that exhaust the error counter) at once. Of the PIIX3
 * datasheet it takes the configuration registers SBRN (60h) and LEGSUP (C0h), whose USBPIRQDEN
 * bit gates the interrupt to PIRQD as on the chip.
 *
 * Port behaviour matches what Linux's uhci-hcd expects of real parts: setting Port Reset
 * disables an enabled port (Port Enable Change), releasing it reports a connect status change,
 * software then enables the port; registers past the two ports read with bit 7 clear, so
 * drivers count two ports.
 *
 * The work per frame is bounded as the frame time bounds it on real hardware: at most 1500
 * byte times of transactions, at most 1024 schedule elements, and a walk that comes back to a
 * queue head or TD without having moved any data since its last visit ends the frame. A guest
 * that points the frame list at nonsense therefore costs at most one bounded walk per
 * millisecond.
 *
 * Left out: isochronous timing (an isochronous TD is executed like any other, once), data
 * toggles, low-speed devices behind the root ports, the debug mode (SWDBG single-stepping),
 * SOF timing adjustment (frames are exactly 1 ms), legacy keyboard/mouse emulation and its SMI
 * traps (LEGSUP's trap enables are stored and never fire), the PCI Bus Master Enable bit (the
 * schedule is fetched whether or not it is set), and PCI master aborts (Host System Error is
 * never set: guest memory outside RAM reads as all ones, which terminates links).
 */
import type { AccessSize } from '../bus/access-range.ts';
import type { Clock, TimerHandle } from '../bus/clock.ts';
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { DmaMemory } from '../bus/dma-memory.ts';
import type { PciBar, PciFunction, PciFunctionInfo } from '../bus/pci.ts';
import { USB_NAK, USB_NO_RESPONSE, USB_PID_IN, USB_PID_OUT, USB_PID_SETUP, USB_STALL, type UsbDevice } from './usb-device.ts';

// USBCMD (2.1.1).
const CMD_RS = 0x0001;
const CMD_HCRESET = 0x0002;
const CMD_GRESET = 0x0004;
const CMD_EGSM = 0x0008;
const CMD_FGR = 0x0010;
const CMD_WRITABLE = 0x00ff & ~CMD_HCRESET;
// USBSTS (2.1.2); every bit is write-one-to-clear.
const STS_USBINT = 0x0001;
const STS_USBERR = 0x0002;
const STS_RD = 0x0004;
const STS_HSE = 0x0008;
const STS_HCPE = 0x0010;
const STS_HCH = 0x0020;
// USBINTR (2.1.3).
const INTR_TIMEOUT_CRC = 0x1;
const INTR_RESUME = 0x2;
const INTR_IOC = 0x4;
const INTR_SHORT = 0x8;
// PORTSC (2.1.7).
const PORT_CCS = 0x0001;
const PORT_CSC = 0x0002;
const PORT_PE = 0x0004;
const PORT_PEC = 0x0008;
const PORT_LINE_DPLUS = 0x0010;
const PORT_LINE_DMINUS = 0x0020;
const PORT_RD = 0x0040;
const PORT_RESERVED_ONE = 0x0080;
const PORT_LSDA = 0x0100;
const PORT_PR = 0x0200;
const PORT_SUSP = 0x1000;
const PORT_RW = PORT_PE | PORT_RD | PORT_PR | PORT_SUSP;
const PORT_W1C = PORT_CSC | PORT_PEC;
// Link pointers (3.1, 3.3).
const LINK_TERMINATE = 0x1;
const LINK_QH = 0x2;
const LINK_DEPTH_FIRST = 0x4;
// TD control and status (3.2.2).
const TD_ACTLEN = 0x7ff;
const TD_CRC_TIMEOUT = 1 << 18;
const TD_NAK = 1 << 19;
const TD_BABBLE = 1 << 20;
const TD_STALLED = 1 << 22;
const TD_ACTIVE = 1 << 23;
const TD_IOC = 1 << 24;
const TD_IOS = 1 << 25;
const TD_CERR_SHIFT = 27;
const TD_SPD = 1 << 29;
// PIIX3 configuration registers.
const CONFIG_SBRN = 0x60;
const CONFIG_LEGSUP = 0xc0;
const LEGSUP_DEFAULT = 0x2000;
const LEGSUP_PIRQDEN = 0x2000;
const LEGSUP_W1C = 0x8f00;
const LEGSUP_READ_ONLY = 0x5040;
const LEGSUP_RW = 0xffff & ~(LEGSUP_W1C | LEGSUP_READ_ONLY);

const FRAME_NS = 1_000_000;
/** Full speed moves 12 Mbit/s: 1500 byte times per frame. */
const FRAME_BYTE_TIMES = 1500;
/** Sync, PID, address/CRC and handshake packets plus inter-packet gaps of one transaction. */
const TRANSACTION_OVERHEAD = 16;
const MAX_ELEMENTS_PER_FRAME = 1024;
/** Frames more overdue than this are skipped (the host could not run the guest for a while). */
const CATCH_UP_LIMIT_NS = 32 * FRAME_NS;
export const UHCI_PORT_COUNT = 2;

export interface UhciOptions {
  /** Guest physical memory as a bus master sees it: the frame list, TDs, QHs and buffers. */
  memory: DmaMemory;
  clock: Clock;
  name?: string;
}

interface RootPort {
  /** PORTSC without the line-status bits, which follow the connection. */
  ctrl: number;
  device?: UsbDevice;
}

/** What executing one TD means for the walk. */
const TD_COMPLETE = 0; // data moved: advance the queue
const TD_NEXT = 1; // not done (NAK, error, inactive, short packet): leave the queue
const TD_STOP = 2; // the frame ends here

export class Uhci implements PciFunction, Device {
  readonly name: string;
  readonly info: PciFunctionInfo;
  readonly config = new Uint8Array(256);
  /** Installed by the PCI bus: drives INTD#. */
  setInterrupt?: (level: boolean) => void;

  private readonly memory: DmaMemory;
  private readonly clock: Clock;
  private readonly ports: RootPort[] = [];
  private command = 0;
  private status = STS_HCH;
  private interruptEnable = 0;
  private frameNumber = 0;
  private frameListBase = 0;
  private sofModify = 0x40;
  /** Completions in the frame being executed, reported when it ends. */
  private frameIoc = false;
  private frameShort = false;
  /** Why USBINT is set: IOC and short packet have separate enables but share the status bit. */
  private usbintIoc = false;
  private usbintShort = false;
  private frameOpen = false;
  private nextFrameNs = 0;
  private frameTimer?: TimerHandle;
  private interruptLevel = false;
  private readonly visited = new Set<number>();

  constructor(options: UhciOptions) {
    this.name = options.name ?? 'uhci';
    this.memory = options.memory;
    this.clock = options.clock;
    for (let i = 0; i < UHCI_PORT_COUNT; i++) this.ports.push({ ctrl: 0 });
    const bar4: PciBar = {
      kind: 'io',
      size: 32,
      range: {
        owner: this.name,
        sizes: 1 | 2 | 4,
        read: (offset, size) => this.readRegisters(offset, size),
        write: (offset, size, value) => this.writeRegisters(offset, size, value),
      },
    };
    this.info = {
      vendorId: 0x8086,
      deviceId: 0x7020,
      classCode: 0x0c0300,
      revision: 0x01,
      subsystemVendorId: 0x1af4,
      subsystemId: 0x1100,
      headerType: 0,
      interruptPin: 4, // INTD#
      bars: [undefined, undefined, undefined, undefined, bar4, undefined],
    };
    this.resetConfig();
  }

  /** Plug `device` into root port `index` (0 or 1), or unplug whatever is there. */
  attach(index: number, device: UsbDevice | undefined): void {
    const port = this.ports[index];
    if (!port) throw new RangeError(`${this.name}: there is no root port ${index}`);
    if (port.device) {
      port.device.onRemoteWakeup = undefined;
      port.device = undefined;
      if (port.ctrl & PORT_CCS) port.ctrl = (port.ctrl & ~PORT_CCS) | PORT_CSC;
      // A disconnect is a fault that disables the port (2.1.7, Port Enable Change).
      if (port.ctrl & PORT_PE) port.ctrl = (port.ctrl & ~PORT_PE) | PORT_PEC;
      port.ctrl &= ~(PORT_LSDA | PORT_SUSP | PORT_RD);
    }
    if (device) {
      port.device = device;
      device.onRemoteWakeup = () => this.remoteWakeup(index);
      this.detect(port);
    }
    // A connect or disconnect during global suspend is a resume event.
    this.resumeFromGlobalSuspend();
  }

  // ---- Registers ----

  private readRegisters(offset: number, size: AccessSize): number {
    if (size === 4 && (offset & 31) === 0x08) return this.frameListBase;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) {
      const o = (offset + i) & 31;
      v = v * 256 + ((this.readRegister16(o & ~1) >> (8 * (o & 1))) & 0xff);
    }
    return v >>> 0;
  }

  private readRegister16(offset: number): number {
    switch (offset) {
      case 0x00:
        return this.command;
      case 0x02:
        return this.status;
      case 0x04:
        return this.interruptEnable;
      case 0x06:
        return this.frameNumber;
      case 0x08:
        return this.frameListBase & 0xffff;
      case 0x0a:
        return this.frameListBase >>> 16;
      case 0x0c:
        return 0xff00 | this.sofModify; // 0Dh-0Fh are reserved
      case 0x10:
      case 0x12:
        return this.readPort(this.ports[(offset - 0x10) >> 1]);
      default:
        // Past the last port: bit 7 clear tells drivers there is no port here (as QEMU reads).
        return offset >= 0x14 ? 0xff7f : 0xffff;
    }
  }

  private writeRegisters(offset: number, size: AccessSize, value: number): void {
    // Split into 16-bit registers, each with the mask of the bytes actually written.
    let o = offset & 31;
    let remaining = size;
    let v = value >>> 0;
    while (remaining > 0) {
      const lane = o & 1;
      const bytes = Math.min(remaining, 2 - lane);
      const mask = (bytes === 2 ? 0xffff : 0xff) << (8 * lane);
      this.writeRegister16(o & ~1, (v << (8 * lane)) & mask, mask);
      v = Math.floor(v / 2 ** (8 * bytes));
      o = (o + bytes) & 31;
      remaining -= bytes;
    }
  }

  private writeRegister16(offset: number, value: number, mask: number): void {
    const merge = (old: number) => (old & ~mask) | (value & mask);
    switch (offset) {
      case 0x00:
        return this.writeCommand(merge(this.command));
      case 0x02:
        this.status &= ~(value & mask & 0x3f);
        if (!(this.status & STS_USBINT)) this.usbintIoc = this.usbintShort = false;
        return this.updateInterrupt();
      case 0x04:
        this.interruptEnable = merge(this.interruptEnable) & 0xf;
        return this.updateInterrupt();
      case 0x06:
        // The frame number may only change while the controller is halted (2.1.4).
        if (this.status & STS_HCH) this.frameNumber = merge(this.frameNumber) & 0x7ff;
        return;
      case 0x08:
      case 0x0a: {
        const shift = offset === 0x08 ? 0 : 16;
        const half = (this.frameListBase >>> shift) & 0xffff;
        const merged = (half & ~mask) | (value & mask);
        const base = shift ? ((this.frameListBase & 0xffff) | (merged << 16)) : ((this.frameListBase & 0xffff0000) | merged);
        this.frameListBase = (base & ~0xfff) >>> 0; // 4 KiB aligned
        return;
      }
      case 0x0c:
        if (mask & 0xff) this.sofModify = value & 0x7f;
        return;
      case 0x10:
      case 0x12: {
        const port = this.ports[(offset - 0x10) >> 1];
        // Bytes not written keep their value, except that change bits are not cleared by them.
        return this.writePort(port, ((port.ctrl & ~PORT_W1C) & ~mask) | (value & mask));
      }
    }
  }

  private writeCommand(value: number): void {
    if (value & CMD_GRESET && !(this.command & CMD_GRESET)) {
      // Global reset: reset signalling to every device, and the controller's own reset.
      for (const p of this.ports) p.device?.busReset();
      this.resetController();
      this.command = CMD_GRESET; // held until software clears it (2.1.1)
      return;
    }
    if (value & CMD_HCRESET) {
      // Completes at once, so the bit reads back as 0.
      this.resetController();
      return;
    }
    const wasRunning = (this.command & CMD_RS) !== 0;
    this.command = value & CMD_WRITABLE;
    if (!wasRunning && this.command & CMD_RS) {
      this.status &= ~STS_HCH;
      this.nextFrameNs = this.clock.now();
      this.scheduleFrame();
    } else if (wasRunning && !(this.command & CMD_RS)) {
      this.halt();
    }
    this.updateInterrupt();
  }

  private readPort(port: RootPort): number {
    let v = port.ctrl | PORT_RESERVED_ONE;
    // Idle line state of the attached device: J is D+ high at full speed, D- high at low speed;
    // reset drives SE0.
    if (port.ctrl & PORT_CCS && !(port.ctrl & PORT_PR)) v |= port.ctrl & PORT_LSDA ? PORT_LINE_DMINUS : PORT_LINE_DPLUS;
    return v;
  }

  private writePort(port: RootPort, value: number): void {
    const before = port.ctrl;
    let ctrl = before & ~(value & PORT_W1C);
    let rw = value & PORT_RW;
    // Only an attached device's port can be enabled, and not while it is being reset.
    if (!(ctrl & PORT_CCS) || rw & PORT_PR) rw &= ~PORT_PE;
    if (rw & PORT_PR && !(before & PORT_PR)) {
      // Reset signalling disables the port; if it was enabled that is an enable change.
      if (before & PORT_PE) ctrl |= PORT_PEC;
      port.device?.busReset();
    }
    if (!(rw & PORT_PR) && before & PORT_PR && ctrl & PORT_CCS) {
      // The device is seen anew at the end of reset (what uhci-hcd clears after a reset).
      ctrl |= PORT_CSC;
    }
    port.ctrl = (ctrl & ~PORT_RW) | rw;
  }

  private detect(port: RootPort): void {
    port.ctrl |= PORT_CCS | PORT_CSC;
    if (port.device?.lowSpeed) port.ctrl |= PORT_LSDA;
    else port.ctrl &= ~PORT_LSDA;
  }

  // ---- Suspend and resume ----

  private remoteWakeup(index: number): void {
    const port = this.ports[index];
    if (!(port.ctrl & PORT_SUSP) || port.ctrl & PORT_RD) return;
    port.ctrl |= PORT_RD;
    this.resumeFromGlobalSuspend();
  }

  private resumeFromGlobalSuspend(): void {
    if (!(this.command & CMD_EGSM)) return;
    this.command |= CMD_FGR;
    this.status |= STS_RD;
    this.updateInterrupt();
  }

  // ---- Interrupt ----

  private updateInterrupt(force = false): void {
    const s = this.status;
    const e = this.interruptEnable;
    const pending =
      (s & STS_USBINT && ((this.usbintIoc && e & INTR_IOC) || (this.usbintShort && e & INTR_SHORT))) ||
      (s & STS_USBERR && e & INTR_TIMEOUT_CRC) ||
      (s & STS_RD && e & INTR_RESUME) ||
      s & (STS_HSE | STS_HCPE);
    const level = !!pending && (this.legacySupport() & LEGSUP_PIRQDEN) !== 0;
    if (level !== this.interruptLevel || force) {
      this.interruptLevel = level;
      this.setInterrupt?.(level);
    }
  }

  // ---- Frames ----

  private scheduleFrame(): void {
    this.clock.cancel(this.frameTimer);
    this.frameTimer = this.clock.schedule(this.nextFrameNs, (now) => this.frameTick(now));
  }

  private frameTick(now: number): void {
    this.frameTimer = undefined;
    if (!(this.command & CMD_RS)) return;
    if (this.frameOpen) this.endFrame();
    if (now - this.nextFrameNs > CATCH_UP_LIMIT_NS) {
      // The machine was not run for a while: the frames in between passed without a schedule.
      const missed = Math.floor((now - this.nextFrameNs) / FRAME_NS);
      this.frameNumber = (this.frameNumber + missed) & 0x7ff;
      this.nextFrameNs += missed * FRAME_NS;
    }
    this.frameOpen = true;
    this.runFrame();
    if (!(this.command & CMD_RS)) return; // a process error halted the controller
    this.nextFrameNs += FRAME_NS;
    this.scheduleFrame();
  }

  /** End of frame: IOC and short-packet completions become USBINT; the frame counter moves on. */
  private endFrame(): void {
    this.frameOpen = false;
    if (this.frameIoc || this.frameShort) {
      this.usbintIoc ||= this.frameIoc;
      this.usbintShort ||= this.frameShort;
      this.status |= STS_USBINT;
      this.frameIoc = this.frameShort = false;
    }
    this.frameNumber = (this.frameNumber + 1) & 0x7ff;
    this.updateInterrupt();
  }

  /** Run/Stop cleared or a fatal error: finish the current frame and stop. */
  private halt(): void {
    this.command &= ~CMD_RS;
    this.clock.cancel(this.frameTimer);
    this.frameTimer = undefined;
    if (this.frameOpen) this.endFrame();
    this.status |= STS_HCH;
    this.updateInterrupt();
  }

  /** Walks this frame's schedule (3.4). */
  private runFrame(): void {
    const mem = this.memory;
    let link = mem.readU32((this.frameListBase + 4 * (this.frameNumber & 0x3ff)) >>> 0);
    let queue = -1; // address of the QH whose element is being executed, or -1
    let queueLink = LINK_TERMINATE; // that QH's horizontal link
    let byteTimes = 0;
    this.visited.clear();
    for (let elements = 0; !(link & LINK_TERMINATE) && elements < MAX_ELEMENTS_PER_FRAME; elements++) {
      const address = (link & ~0xf) >>> 0;
      const key = address + (link & LINK_QH ? 0.5 : 0);
      // Coming back without having moved data since the last visit: nothing more to do this frame.
      if (this.visited.has(key)) break;
      this.visited.add(key);
      if (link & LINK_QH) {
        const horizontal = mem.readU32(address);
        const element = mem.readU32(address + 4);
        if (element & LINK_TERMINATE) {
          queue = -1;
          link = horizontal;
        } else {
          queue = address;
          queueLink = horizontal;
          link = element;
        }
        continue;
      }
      const tdLink = mem.readU32(address);
      const budget = FRAME_BYTE_TIMES - byteTimes;
      const result = this.executeTd(address, budget);
      if (result === TD_STOP) break;
      byteTimes += this.lastTransactionBytes;
      if (result === TD_NEXT) {
        // A TD that did not complete blocks its queue: go on to the next queue (3.4.2).
        link = queue >= 0 ? queueLink : tdLink;
        queue = -1;
        continue;
      }
      // Data moved: the walk may legitimately revisit what it saw before.
      this.visited.clear();
      if (queue >= 0) {
        // The queue advances to the TD's successor (3.4.2).
        mem.writeU32(queue + 4, tdLink);
        if (tdLink & LINK_DEPTH_FIRST && !(tdLink & LINK_TERMINATE)) {
          link = tdLink;
          if (tdLink & LINK_QH) queue = -1;
        } else {
          link = queueLink;
          queue = -1;
        }
      } else {
        link = tdLink;
      }
    }
  }

  /** Bus time used by the last executeTd, in byte times. */
  private lastTransactionBytes = 0;

  /** Executes one TD at `address` and writes back its status (3.2). */
  private executeTd(address: number, budget: number): number {
    const mem = this.memory;
    this.lastTransactionBytes = 0;
    const ctrl = mem.readU32(address + 4);
    if (!(ctrl & TD_ACTIVE)) {
      // An inactive TD still raises its IOC at the end of the frame (3.2.2); drivers rely on it.
      if (ctrl & TD_IOC) this.frameIoc = true;
      return TD_NEXT;
    }
    const token = mem.readU32(address + 8);
    const buffer = mem.readU32(address + 12);
    const pid = token & 0xff;
    const maxLengthField = token >>> 21;
    if ((pid !== USB_PID_IN && pid !== USB_PID_OUT && pid !== USB_PID_SETUP) || (maxLengthField > 0x4ff && maxLengthField !== 0x7ff)) {
      // A consistency check failure: the controller stops the schedule (2.1.2, HC Process Error).
      this.status |= STS_HCPE;
      this.halt();
      return TD_STOP;
    }
    const length = (maxLengthField + 1) & 0x7ff;
    // Not enough of the frame left for this transaction: it waits for the next frame.
    if (length + TRANSACTION_OVERHEAD > budget) return TD_STOP;
    // OUT and SETUP data goes on the wire whether or not the device answers.
    this.lastTransactionBytes = TRANSACTION_OVERHEAD + (pid === USB_PID_IN ? 0 : length);
    const device = this.deviceAt((token >> 8) & 0x7f);
    const endpoint = (token >> 15) & 0xf;
    let response: Uint8Array | number = USB_NO_RESPONSE;
    if (device) {
      if (pid === USB_PID_IN) {
        response = device.in(endpoint);
      } else {
        const data = new Uint8Array(length);
        if (length) mem.read(buffer, data);
        response = pid === USB_PID_SETUP ? device.setup(data) : device.out(endpoint, data);
      }
    }
    let result = TD_NEXT;
    let next = ctrl;
    if (response instanceof Uint8Array || response >= 0) {
      const moved = response instanceof Uint8Array ? response.length : length;
      next &= ~(TD_ACTIVE | TD_NAK | TD_ACTLEN);
      if (response instanceof Uint8Array && moved > length) {
        // The device sent more than the TD's buffer holds: babble, and the endpoint is stalled.
        if (length) mem.write(buffer, response.subarray(0, length));
        next |= TD_BABBLE | TD_STALLED | ((length - 1) & TD_ACTLEN);
        this.status |= STS_USBERR;
      } else {
        if (response instanceof Uint8Array && moved) mem.write(buffer, response);
        next |= (moved - 1) & TD_ACTLEN;
        if (pid === USB_PID_IN) this.lastTransactionBytes += moved;
        if (pid === USB_PID_IN && moved < length && ctrl & TD_SPD) {
          // Short packet detect: the queue stays on this TD and software sees why.
          this.frameShort = true;
        } else {
          result = TD_COMPLETE;
        }
      }
      if (ctrl & TD_IOC) this.frameIoc = true;
    } else if (response === USB_NAK) {
      next |= TD_NAK; // still active: retried in a later frame
    } else if (response === USB_STALL) {
      next = (next & ~(TD_ACTIVE | TD_ACTLEN)) | TD_STALLED | TD_ACTLEN;
      this.status |= STS_USBERR;
      if (ctrl & TD_IOC) this.frameIoc = true;
    } else {
      // No handshake: a time-out. The error counter decides whether to try again (3.2.2).
      let errors = (ctrl >>> TD_CERR_SHIFT) & 3;
      next |= TD_CRC_TIMEOUT;
      if (errors !== 0) {
        errors--;
        if (errors === 0) {
          next = (next & ~TD_ACTIVE) | TD_STALLED;
          this.status |= STS_USBERR;
          if (ctrl & TD_IOC) this.frameIoc = true;
        }
        next = (next & ~(3 << TD_CERR_SHIFT)) | (errors << TD_CERR_SHIFT);
      }
      next = (next & ~TD_ACTLEN) | TD_ACTLEN;
    }
    // An isochronous TD is tried once, whatever happened.
    if (ctrl & TD_IOS) next &= ~TD_ACTIVE;
    next >>>= 0;
    if (next !== ctrl) mem.writeU32(address + 4, next);
    this.updateInterrupt();
    return result;
  }

  /** The device answering `address`: on an enabled, not suspended, not resetting port. */
  private deviceAt(address: number): UsbDevice | undefined {
    for (const p of this.ports) {
      if ((p.ctrl & (PORT_PE | PORT_SUSP | PORT_PR)) !== PORT_PE || !p.device) continue;
      if (p.device.address === address) return p.device;
    }
    return undefined;
  }

  // ---- PCI configuration ----

  private legacySupport(): number {
    return this.config[CONFIG_LEGSUP] | (this.config[CONFIG_LEGSUP + 1] << 8);
  }

  configWrite(offset: number, size: 1 | 2 | 4, value: number): boolean {
    if (offset < 0x40) return false;
    for (let i = 0; i < size && offset + i < 256; i++) {
      const o = offset + i;
      const byte = (value >>> (8 * i)) & 0xff;
      if (o === CONFIG_LEGSUP || o === CONFIG_LEGSUP + 1) {
        const shift = 8 * (o - CONFIG_LEGSUP);
        const rw = (LEGSUP_RW >> shift) & 0xff;
        const w1c = (LEGSUP_W1C >> shift) & 0xff;
        this.config[o] = ((this.config[o] & ~rw) | (byte & rw)) & ~(byte & w1c);
      } else if (o !== CONFIG_SBRN) {
        this.config[o] = byte;
      }
    }
    this.updateInterrupt();
    return true;
  }

  private resetConfig(): void {
    this.config.fill(0, 0x40);
    this.config[CONFIG_SBRN] = 0x10; // USB 1.0
    this.config[CONFIG_LEGSUP] = LEGSUP_DEFAULT & 0xff;
    this.config[CONFIG_LEGSUP + 1] = LEGSUP_DEFAULT >> 8;
  }

  // ---- Reset and state ----

  /** HCRESET: registers, the schedule and the root hub; attached devices are detected anew. */
  private resetController(): void {
    this.clock.cancel(this.frameTimer);
    this.frameTimer = undefined;
    this.command = 0;
    this.status = STS_HCH;
    this.interruptEnable = 0;
    this.frameNumber = 0;
    this.frameListBase = 0;
    this.sofModify = 0x40;
    this.frameIoc = this.frameShort = this.usbintIoc = this.usbintShort = false;
    this.frameOpen = false;
    for (const p of this.ports) {
      p.ctrl = 0;
      if (p.device) this.detect(p);
    }
    this.updateInterrupt();
  }

  reset(): void {
    this.resetConfig();
    this.resetController();
  }

  saveState(): DeviceState {
    return {
      version: 1,
      command: this.command,
      status: this.status,
      interruptEnable: this.interruptEnable,
      frameNumber: this.frameNumber,
      frameListBase: this.frameListBase,
      sofModify: this.sofModify,
      ports: this.ports.map((p) => p.ctrl),
      completions: [this.frameIoc, this.frameShort, this.usbintIoc, this.usbintShort],
      frameOpen: this.frameOpen,
      nextFrameNs: this.nextFrameNs,
      deviceConfig: this.config.slice(0x40),
    };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    this.clock.cancel(this.frameTimer);
    this.frameTimer = undefined;
    this.command = Number(state.command) & CMD_WRITABLE;
    this.status = Number(state.status) & 0x3f;
    this.interruptEnable = Number(state.interruptEnable) & 0xf;
    this.frameNumber = Number(state.frameNumber) & 0x7ff;
    this.frameListBase = (Number(state.frameListBase) & ~0xfff) >>> 0;
    this.sofModify = Number(state.sofModify) & 0x7f;
    (state.ports as number[]).forEach((ctrl, i) => {
      if (this.ports[i]) this.ports[i].ctrl = ctrl & 0xffff & ~(PORT_RESERVED_ONE | PORT_LINE_DPLUS | PORT_LINE_DMINUS);
    });
    [this.frameIoc, this.frameShort, this.usbintIoc, this.usbintShort] = (state.completions as boolean[]).map(Boolean);
    this.frameOpen = !!state.frameOpen;
    this.nextFrameNs = Number(state.nextFrameNs) || 0;
    this.config.set((state.deviceConfig as Uint8Array).subarray(0, 0xc0), 0x40);
    if (this.command & CMD_RS) this.scheduleFrame();
    this.updateInterrupt(true);
  }
}
