/**
 * National Semiconductor PC16550D UART ("16550A": working FIFOs), as on the PC's COM ports.
 * Follows the PC16550D datasheet: register map, FIFO control and trigger levels, interrupt
 * priorities and their reset conditions, loopback wiring, and the PC board's use of OUT2 to
 * gate the interrupt line onto the ISA bus.
 *
 * Model choices:
 * - Transmission: a byte written to THR goes to `onTransmit` at once (the host never waits),
 *   while the FIFO/THR and shift-register state that the guest sees in LSR (THRE, TEMT) and
 *   IIR follow the programmed baud rate and frame format on the clock. A guest that ignores
 *   THRE and overfills the FIFO still gets every byte out.
 * - Reception: host input goes into a host-side queue and enters the RX FIFO (16 bytes, or the
 *   1-byte RBR with FIFOs off) as the guest drains it, so pasted text is never overrun. Overrun
 *   can only come from loopback traffic, as the guest's own doing.
 * - Left out: parity and framing errors (the host link carries bytes, not bits), DMA mode
 *   (FCR bit 3 is stored, TXRDY/RXRDY pins are not modelled), the 16750 64-byte FIFO and
 *   automatic flow control, and the baud-rate pacing of host input.
 */
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import type { Clock, TimerHandle } from '../bus/clock.ts';
import type { IoBus } from '../bus/io-bus.ts';
import type { IrqLine } from '../bus/irq-line.ts';

export interface Uart16550Options {
  io: IoBus;
  clock: Clock;
  irq: IrqLine;
  /** First port: 0x3F8 for COM1, 0x2F8 for COM2. */
  base: number;
  name: string;
  /** A byte the guest transmitted (not called in loopback mode). */
  onTransmit: (byte: number) => void;
}

/** Modem status inputs the host side drives (outside loopback). */
export interface ModemInputs {
  cts?: boolean;
  dsr?: boolean;
  ri?: boolean;
  dcd?: boolean;
}

/** The UART's input clock: 1.8432 MHz, 16 clocks per bit. */
const UART_CLOCK_HZ = 1_843_200;
const FIFO_SIZE = 16;
/** Host bytes waiting beyond the FIFO; past this, the oldest input is dropped. */
const HOST_QUEUE_LIMIT = 1 << 20;

const IER_RDA = 0x01;
const IER_THRE = 0x02;
const IER_RLS = 0x04;
const IER_MS = 0x08;

const IIR_NONE = 0x01;
const IIR_MS = 0x00;
const IIR_THRE = 0x02;
const IIR_RDA = 0x04;
const IIR_RLS = 0x06;
const IIR_TIMEOUT = 0x0c;
const IIR_FIFO = 0xc0;

const LCR_BREAK = 0x40;
const LCR_DLAB = 0x80;

const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;

const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_FE = 0x08;
const LSR_BI = 0x10;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const LSR_FIFO_ERROR = 0x80;
const LSR_ERRORS = 0x1e;

const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;

const TRIGGER_LEVELS = [1, 4, 8, 14];

export class Uart16550 implements Device {
  readonly name: string;
  readonly base: number;
  private readonly clock: Clock;
  private readonly irq: IrqLine;
  private readonly onTransmit: (byte: number) => void;

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private dll = 1;
  private dlm = 0;
  private fcr = 0;

  private rx: number[] = [];
  /** Error bits (BI/FE) that travel with each byte of the RX FIFO. */
  private rxFlags: number[] = [];
  private rbrLatch = 0;
  private hostQueue: number[] = [];
  /** Sticky LSR error bits (OE, FE, BI) until LSR is read. */
  private lsrErrors = 0;

  private tx: number[] = [];
  private tsrBusy = false;
  private tsrByte = 0;
  private tsrLoop = false;
  private txEndAt = -1;
  private txTimer?: TimerHandle;
  /** THRE interrupt pending (cleared by reading IIR while it is the source, or by writing THR). */
  private thri = false;

  private timeoutPending = false;
  private timeoutAt = -1;
  private timeoutTimer?: TimerHandle;

  /** Host-driven modem inputs in MSR bit positions 4-7. */
  private hostModem = MSR_CTS | MSR_DSR | MSR_DCD;
  private msrLines = MSR_CTS | MSR_DSR | MSR_DCD;
  private msrDelta = 0;

  constructor(options: Uart16550Options) {
    this.name = options.name;
    this.base = options.base;
    this.clock = options.clock;
    this.irq = options.irq;
    this.onTransmit = options.onTransmit;
    options.io.register({
      owner: this.name,
      base: this.base,
      length: 8,
      read: (offset) => this.read(offset),
      write: (offset, _size, value) => this.write(offset, value & 0xff),
    });
    this.reset();
  }

  reset(): void {
    this.clock.cancel(this.txTimer);
    this.clock.cancel(this.timeoutTimer);
    this.txTimer = this.timeoutTimer = undefined;
    this.ier = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.scr = 0;
    this.dll = 1;
    this.dlm = 0;
    this.fcr = 0;
    this.rx = [];
    this.rxFlags = [];
    this.rbrLatch = 0;
    this.lsrErrors = 0;
    this.tx = [];
    this.tsrBusy = false;
    this.tsrByte = 0;
    this.tsrLoop = false;
    this.txEndAt = -1;
    this.thri = false;
    this.timeoutPending = false;
    this.timeoutAt = -1;
    this.msrLines = this.hostModem;
    this.msrDelta = 0;
    // Host input that arrived before the reset is still waiting on the line.
    this.feedFromHost();
    this.updateIrq();
  }

  // ---- host side -------------------------------------------------------------------------

  /** Bytes arriving on the serial line from the host (terminal, pipe). */
  receive(bytes: Uint8Array | readonly number[]): void {
    for (let i = 0; i < bytes.length; i++) this.hostQueue.push(bytes[i] & 0xff);
    if (this.hostQueue.length > HOST_QUEUE_LIMIT) this.hostQueue.splice(0, this.hostQueue.length - HOST_QUEUE_LIMIT);
    this.feedFromHost();
    this.updateIrq();
  }

  /** A break condition on the line from the host (a NUL character with BI and FE set). */
  receiveBreak(): void {
    if (this.mcr & MCR_LOOP) return;
    this.receiveChar(0, LSR_BI | LSR_FE);
    this.updateIrq();
  }

  /** Drive the modem status inputs (CTS, DSR, RI, DCD) as seen outside loopback. */
  setModemInputs(inputs: ModemInputs): void {
    const bit = (on: boolean | undefined, mask: number) => (on === undefined ? this.hostModem & mask : on ? mask : 0);
    this.hostModem = bit(inputs.cts, MSR_CTS) | bit(inputs.dsr, MSR_DSR) | bit(inputs.ri, MSR_RI) | bit(inputs.dcd, MSR_DCD);
    if (!(this.mcr & MCR_LOOP)) this.setModemLines(this.hostModem);
    this.updateIrq();
  }

  /** The guest's DTR/RTS/OUT1/OUT2 (MCR bits 0-3); all inactive in loopback, as on the pins. */
  get modemControl(): number {
    return this.mcr & MCR_LOOP ? 0 : this.mcr & 0x0f;
  }

  /** Host bytes not yet taken into the RX FIFO. */
  get pendingInput(): number {
    return this.hostQueue.length;
  }

  // ---- registers -------------------------------------------------------------------------

  private read(offset: number): number {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case 0:
        return dlab ? this.dll : this.readRbr();
      case 1:
        return dlab ? this.dlm : this.ier;
      case 2:
        return this.readIir();
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5:
        return this.readLsr();
      case 6:
        return this.readMsr();
      case 7:
        return this.scr;
    }
    return 0xff;
  }

  private write(offset: number, value: number): void {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case 0:
        if (dlab) this.dll = value;
        else this.writeThr(value);
        break;
      case 1:
        if (dlab) this.dlm = value;
        else this.writeIer(value);
        break;
      case 2:
        this.writeFcr(value);
        break;
      case 3:
        this.writeLcr(value);
        break;
      case 4:
        this.writeMcr(value);
        break;
      case 5:
        // LSR is read-only in normal operation (writes are a factory test mode).
        break;
      case 6:
        break;
      case 7:
        this.scr = value;
        break;
    }
    this.updateIrq();
  }

  private get fifoEnabled(): boolean {
    return (this.fcr & 0x01) !== 0;
  }

  private get rxCapacity(): number {
    return this.fifoEnabled ? FIFO_SIZE : 1;
  }

  /** Time of one character frame at the current divisor and line format, in ns. */
  private get charTimeNs(): number {
    const divisor = this.dlm * 256 + this.dll || 1; // divisor 0 is undefined in hardware; use 1
    const dataBits = 5 + (this.lcr & 3);
    const parity = this.lcr & 0x08 ? 1 : 0;
    const stop = this.lcr & 0x04 ? (dataBits === 5 ? 1.5 : 2) : 1;
    const bits = 1 + dataBits + parity + stop;
    return (bits * divisor * 16 * 1e9) / UART_CLOCK_HZ;
  }

  // ---- receiver --------------------------------------------------------------------------

  private readRbr(): number {
    if (this.rx.length === 0) return this.rbrLatch;
    this.rbrLatch = this.rx.shift()!;
    this.rxFlags.shift();
    this.timeoutPending = false;
    // The next byte reaching the top of the FIFO shows its own error bits.
    if (this.rx.length > 0) this.lsrErrors |= this.rxFlags[0];
    this.feedFromHost();
    this.armTimeout();
    this.updateIrq();
    return this.rbrLatch;
  }

  private feedFromHost(): void {
    if (this.mcr & MCR_LOOP) return;
    let fed = false;
    while (this.hostQueue.length > 0 && this.rx.length < this.rxCapacity) {
      this.receiveChar(this.hostQueue.shift()!, 0);
      fed = true;
    }
    if (fed) this.armTimeout();
  }

  /** A character completes in the receiver shift register. */
  private receiveChar(byte: number, flags: number): void {
    if (this.rx.length >= this.rxCapacity) {
      this.lsrErrors |= LSR_OE;
      if (this.fifoEnabled) return; // the FIFO keeps its contents; the new character is lost
      // 16450 mode: the new character overwrites RBR.
      this.rx = [];
      this.rxFlags = [];
    }
    this.rx.push(byte & 0xff);
    this.rxFlags.push(flags);
    if (this.rx.length === 1) this.lsrErrors |= flags;
    this.armTimeout();
  }

  /** Character timeout: data below the trigger level, untouched for four character times. */
  private armTimeout(): void {
    this.clock.cancel(this.timeoutTimer);
    this.timeoutTimer = undefined;
    this.timeoutAt = -1;
    if (!this.fifoEnabled || this.rx.length === 0) return;
    this.scheduleTimeout(this.clock.now() + 4 * this.charTimeNs);
  }

  private scheduleTimeout(at: number): void {
    this.timeoutAt = at;
    this.timeoutTimer = this.clock.schedule(at, () => {
      this.timeoutTimer = undefined;
      this.timeoutAt = -1;
      if (this.fifoEnabled && this.rx.length > 0) this.timeoutPending = true;
      this.updateIrq();
    });
  }

  private clearRxFifo(): void {
    this.rx = [];
    this.rxFlags = [];
    this.timeoutPending = false;
    this.armTimeout();
  }

  // ---- transmitter -----------------------------------------------------------------------

  private writeThr(value: number): void {
    if (!(this.mcr & MCR_LOOP)) this.onTransmit(value);
    const capacity = this.fifoEnabled ? FIFO_SIZE : 1;
    if (this.tx.length < capacity) this.tx.push(value);
    this.thri = false;
    this.startTransmitter();
  }

  /** Move the next byte from THR/FIFO into the shift register if it is idle. */
  private startTransmitter(): void {
    if (this.tsrBusy || this.tx.length === 0) return;
    this.tsrByte = this.tx.shift()!;
    this.tsrLoop = (this.mcr & MCR_LOOP) !== 0;
    this.tsrBusy = true;
    if (this.tx.length === 0) this.thri = true;
    this.scheduleTxEnd(this.clock.now() + this.charTimeNs);
  }

  private scheduleTxEnd(at: number): void {
    this.txEndAt = at;
    this.txTimer = this.clock.schedule(at, () => {
      this.txTimer = undefined;
      this.txEndAt = -1;
      this.tsrBusy = false;
      if (this.tsrLoop && this.mcr & MCR_LOOP) this.receiveChar(this.tsrByte, 0);
      this.startTransmitter();
      this.updateIrq();
    });
  }

  // ---- control registers -----------------------------------------------------------------

  private writeIer(value: number): void {
    const old = this.ier;
    this.ier = value & 0x0f;
    // Enabling the THRE interrupt while THR is empty raises it at once.
    if (!(old & IER_THRE) && this.ier & IER_THRE && this.tx.length === 0) this.thri = true;
  }

  private writeFcr(value: number): void {
    const enable = value & 0x01;
    if (enable !== (this.fcr & 0x01)) {
      // Changing the FIFO enable clears both FIFOs.
      this.fcr = enable;
      this.clearRxFifo();
      if (this.tx.length > 0) this.thri = true;
      this.tx = [];
    }
    if (!enable) {
      this.fcr = 0;
      this.feedFromHost();
      return;
    }
    if (value & 0x02) this.clearRxFifo();
    if (value & 0x04 && this.tx.length > 0) {
      this.tx = [];
      this.thri = true;
    }
    this.fcr = value & 0xc9; // enable, DMA mode, trigger level; the reset bits self-clear
    this.feedFromHost();
  }

  private writeLcr(value: number): void {
    const old = this.lcr;
    this.lcr = value;
    // In loopback the transmitter output feeds the receiver, so a break is received.
    if (!(old & LCR_BREAK) && value & LCR_BREAK && this.mcr & MCR_LOOP) this.receiveChar(0, LSR_BI | LSR_FE);
  }

  private writeMcr(value: number): void {
    const old = this.mcr;
    this.mcr = value & 0x1f;
    if (this.mcr & MCR_LOOP) this.setModemLines(this.loopbackModemLines());
    else this.setModemLines(this.hostModem);
    if (old & MCR_LOOP && !(this.mcr & MCR_LOOP)) this.feedFromHost();
  }

  private loopbackModemLines(): number {
    const m = this.mcr;
    return (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_DTR ? MSR_DSR : 0) | (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
  }

  private setModemLines(lines: number): void {
    const changed = this.msrLines ^ lines;
    if (changed & MSR_CTS) this.msrDelta |= 0x01;
    if (changed & MSR_DSR) this.msrDelta |= 0x02;
    if (changed & MSR_RI && !(lines & MSR_RI)) this.msrDelta |= 0x04; // trailing edge of RI only
    if (changed & MSR_DCD) this.msrDelta |= 0x08;
    this.msrLines = lines;
  }

  // ---- status registers ------------------------------------------------------------------

  private lsrValue(): number {
    let lsr = this.lsrErrors;
    if (this.rx.length > 0) lsr |= LSR_DR;
    if (this.tx.length === 0) {
      lsr |= LSR_THRE;
      if (!this.tsrBusy) lsr |= LSR_TEMT;
    }
    if (this.fifoEnabled && this.rxFlags.some((f) => f !== 0)) lsr |= LSR_FIFO_ERROR;
    return lsr;
  }

  private readLsr(): number {
    const lsr = this.lsrValue();
    this.lsrErrors = 0;
    this.updateIrq();
    return lsr;
  }

  private readMsr(): number {
    const msr = this.msrLines | this.msrDelta;
    this.msrDelta = 0;
    this.updateIrq();
    return msr;
  }

  /** The highest-priority pending interrupt, as IIR bits 0-3. */
  private interruptId(): number {
    if (this.ier & IER_RLS && this.lsrErrors & LSR_ERRORS) return IIR_RLS;
    if (this.ier & IER_RDA) {
      const level = this.fifoEnabled ? TRIGGER_LEVELS[this.fcr >> 6] : 1;
      if (this.rx.length >= level) return IIR_RDA;
      if (this.timeoutPending) return IIR_TIMEOUT;
    }
    if (this.ier & IER_THRE && this.thri) return IIR_THRE;
    if (this.ier & IER_MS && this.msrDelta) return IIR_MS;
    return IIR_NONE;
  }

  private readIir(): number {
    const id = this.interruptId();
    if (id === IIR_THRE) {
      this.thri = false;
      this.updateIrq();
    }
    return id | (this.fifoEnabled ? IIR_FIFO : 0);
  }

  private updateIrq(): void {
    // On a PC, OUT2 enables the buffer that drives the ISA IRQ line; in loopback the OUT2 pin
    // is forced inactive, so the line stays low.
    const gate = (this.mcr & (MCR_OUT2 | MCR_LOOP)) === MCR_OUT2;
    this.irq.set(gate && this.interruptId() !== IIR_NONE);
  }

  // ---- state -----------------------------------------------------------------------------

  saveState(): DeviceState {
    return {
      version: 1,
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      scr: this.scr,
      dll: this.dll,
      dlm: this.dlm,
      fcr: this.fcr,
      rx: this.rx.slice(),
      rxFlags: this.rxFlags.slice(),
      rbrLatch: this.rbrLatch,
      hostQueue: this.hostQueue.slice(),
      lsrErrors: this.lsrErrors,
      tx: this.tx.slice(),
      tsrBusy: this.tsrBusy,
      tsrByte: this.tsrByte,
      tsrLoop: this.tsrLoop,
      txEndAt: this.txEndAt,
      thri: this.thri,
      timeoutPending: this.timeoutPending,
      timeoutAt: this.timeoutAt,
      hostModem: this.hostModem,
      msrLines: this.msrLines,
      msrDelta: this.msrDelta,
    };
  }

  /** Restore a saved state; the clock must already be at the snapshot's time. */
  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    const num = (k: string) => Number(state[k]);
    const bytes = (k: string) => Array.from(state[k] as ArrayLike<number>, (b) => Number(b) & 0xff);
    this.clock.cancel(this.txTimer);
    this.clock.cancel(this.timeoutTimer);
    this.txTimer = this.timeoutTimer = undefined;
    this.ier = num('ier') & 0x0f;
    this.lcr = num('lcr') & 0xff;
    this.mcr = num('mcr') & 0x1f;
    this.scr = num('scr') & 0xff;
    this.dll = num('dll') & 0xff;
    this.dlm = num('dlm') & 0xff;
    this.fcr = num('fcr') & 0xc9;
    this.rx = bytes('rx');
    this.rxFlags = bytes('rxFlags');
    this.rbrLatch = num('rbrLatch') & 0xff;
    this.hostQueue = bytes('hostQueue');
    this.lsrErrors = num('lsrErrors') & LSR_ERRORS;
    this.tx = bytes('tx');
    this.tsrBusy = Boolean(state.tsrBusy);
    this.tsrByte = num('tsrByte') & 0xff;
    this.tsrLoop = Boolean(state.tsrLoop);
    this.thri = Boolean(state.thri);
    this.timeoutPending = Boolean(state.timeoutPending);
    this.hostModem = num('hostModem') & 0xf0;
    this.msrLines = num('msrLines') & 0xf0;
    this.msrDelta = num('msrDelta') & 0x0f;
    this.txEndAt = -1;
    this.timeoutAt = -1;
    if (this.tsrBusy) this.scheduleTxEnd(Math.max(num('txEndAt'), this.clock.now()));
    if (num('timeoutAt') >= 0) this.scheduleTimeout(num('timeoutAt'));
    this.updateIrq();
  }
}
