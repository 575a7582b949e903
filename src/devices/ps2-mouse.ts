/**
 * PS/2 mouse behind the i8042's auxiliary port (IBM PS/2 Hardware Interface Technical
 * Reference, "Pointing Device"), with the Microsoft IntelliMouse extensions: the sample-rate
 * knock 200,100,80 switches to device ID 3 and a fourth packet byte carrying the wheel; a
 * following 200,200,80 switches to ID 4 (wheel plus buttons 4 and 5).
 *
 * Model choices and what is left out:
 * - Host motion arrives as counts; the resolution setting is stored and reported but does not
 *   rescale it, and the sample rate does not pace packets (each host move produces packets at
 *   once). Scaling 2:1 is applied to stream-mode packets as the hardware does.
 * - Output buffer of 16 bytes. When a whole packet does not fit, motion keeps accumulating
 *   and goes out as soon as the controller has drained enough bytes, so no motion is lost and
 *   a packet is never split. Large accumulated motion is sent as several in-range packets;
 *   the overflow bits appear only when one packet must carry more than 9 bits (remote-mode
 *   reads, or 2:1 scaling of a large step).
 * - A command from the controller discards unsent motion packets (not earlier replies) so the
 *   acknowledge comes next, as a real mouse aborts a transmission when the host takes the line.
 */
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';

export interface Ps2MouseOptions {
  name?: string;
}

const QUEUE_SIZE = 16;
/** Marks queued bytes that belong to motion packets (dropped when a command arrives). */
const PACKET_BYTE = 0x100;
const ACK = 0xfa;
const RESEND = 0xfe;
const VALID_RATES = new Set([10, 20, 40, 60, 80, 100, 200]);
/** Commands that take one argument byte. */
const WITH_ARGUMENT = new Set([0xe8, 0xf3]);

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** 2:1 scaling as specified: 1->1, 2->1, 3->3, 4->6, 5->9, larger values doubled. */
function scale21(v: number): number {
  const a = Math.abs(v);
  const s = a <= 1 ? a : a === 2 ? 1 : a === 3 ? 3 : a === 4 ? 6 : a === 5 ? 9 : 2 * a;
  return v < 0 ? -s : s;
}

export class Ps2Mouse implements Device {
  readonly name: string;
  private queue: number[] = [];
  private onOutput: () => void = () => {};
  private pendingCommand = -1;
  private lastSent = 0;

  private reporting = false;
  private remote = false;
  private wrap = false;
  private sampleRate = 100;
  private resolution = 2;
  private scaling21 = false;
  private deviceId = 0;
  private rateHistory: number[] = [];

  /** Motion not yet reported, in PS/2 convention (y up, z positive = wheel toward the user). */
  private dx = 0;
  private dy = 0;
  private dz = 0;
  private buttons = 0;
  private reportedButtons = 0;

  constructor(options: Ps2MouseOptions = {}) {
    this.name = options.name ?? 'ps2-mouse';
  }

  reset(): void {
    this.queue = [];
    this.pendingCommand = -1;
    this.lastSent = 0;
    this.wrap = false;
    this.deviceId = 0;
    this.rateHistory = [];
    this.setDefaults();
  }

  private setDefaults(): void {
    this.reporting = false;
    this.remote = false;
    this.sampleRate = 100;
    this.resolution = 2;
    this.scaling21 = false;
    this.dx = this.dy = this.dz = 0;
    this.reportedButtons = this.buttons;
  }

  /** The ID the mouse answers to 0xF2: 0 standard, 3 wheel, 4 wheel + 5 buttons. */
  get id(): number {
    return this.deviceId;
  }

  // ---- host side -------------------------------------------------------------------------

  /**
   * Pointer motion and button state from the host. `dx` right and `dy` down are positive (as
   * in DOM `movementX/Y`), `dz` positive is the wheel turned toward the user (DOM `deltaY` >
   * 0); `buttons` uses DOM `MouseEvent.buttons` bits: 0 left, 1 right, 2 middle, 3 back,
   * 4 forward.
   */
  move(dx: number, dy: number, dz: number, buttons: number): void {
    this.buttons = buttons & 0x1f;
    if (this.remote) {
      this.accumulate(dx, dy, dz);
      return;
    }
    if (!this.reporting || this.wrap) return;
    this.accumulate(dx, dy, dz);
    this.flush();
  }

  private accumulate(dx: number, dy: number, dz: number): void {
    // Bounded so a stuck controller cannot make the backlog grow without end.
    const limit = 1 << 16;
    this.dx = clamp(this.dx + Math.trunc(dx || 0), -limit, limit);
    this.dy = clamp(this.dy - Math.trunc(dy || 0), -limit, limit);
    this.dz = clamp(this.dz + Math.trunc(dz || 0), -limit, limit);
  }

  private get packetSize(): number {
    return this.deviceId === 0 ? 3 : 4;
  }

  /** Send stream packets while there is unreported motion or a button change and room. */
  private flush(notify = true): void {
    let sent = false;
    while (this.dx !== 0 || this.dy !== 0 || this.dz !== 0 || this.buttons !== this.reportedButtons) {
      if (this.queue.length + this.packetSize > QUEUE_SIZE) break;
      const x = clamp(this.dx, -256, 255);
      const y = clamp(this.dy, -256, 255);
      const z = clamp(this.dz, -8, 7);
      this.dx -= x;
      this.dy -= y;
      this.dz -= z;
      const sx = this.scaling21 ? scale21(x) : x;
      const sy = this.scaling21 ? scale21(y) : y;
      for (const b of this.packet(sx, sy, z)) this.queue.push(b | PACKET_BYTE);
      sent = true;
    }
    if (sent && notify) this.onOutput();
  }

  private packet(x: number, y: number, z: number): number[] {
    let b0 = 0x08 | (this.buttons & 0x07);
    if (x < 0) b0 |= 0x10;
    if (y < 0) b0 |= 0x20;
    if (x < -256 || x > 255) {
      b0 |= 0x40;
      x = clamp(x, -256, 255);
    }
    if (y < -256 || y > 255) {
      b0 |= 0x80;
      y = clamp(y, -256, 255);
    }
    this.reportedButtons = this.buttons;
    const bytes = [b0, x & 0xff, y & 0xff];
    if (this.deviceId === 3) bytes.push(clamp(z, -128, 127) & 0xff);
    else if (this.deviceId === 4) bytes.push((clamp(z, -8, 7) & 0x0f) | ((this.buttons & 0x18) << 1));
    return bytes;
  }

  // ---- controller side (Ps2PortDevice) ---------------------------------------------------

  connect(onOutput: () => void): void {
    this.onOutput = onOutput;
  }

  hasOutput(): boolean {
    return this.queue.length > 0;
  }

  readOutput(): number {
    const byte = (this.queue.shift() ?? 0) & 0xff;
    this.lastSent = byte;
    // Room again: coalesced motion joins the queue. No notification: the controller is the
    // caller and looks for more output itself once this byte has been read by the guest.
    if (this.reporting && !this.remote && !this.wrap) this.flush(false);
    return byte;
  }

  writeFromController(byte: number): void {
    byte &= 0xff;
    const command = this.pendingCommand;
    this.pendingCommand = -1;
    if (command !== -1) {
      this.argument(command, byte);
    } else if (this.wrap && byte !== 0xff && byte !== 0xec) {
      this.queue.push(byte);
    } else {
      this.queue = this.queue.filter((b) => (b & PACKET_BYTE) === 0);
      this.command(byte);
    }
    this.onOutput();
  }

  private command(byte: number): void {
    if (WITH_ARGUMENT.has(byte)) {
      this.pendingCommand = byte;
      this.queue.push(ACK);
      return;
    }
    switch (byte) {
      case 0xe6:
        this.scaling21 = false;
        break;
      case 0xe7:
        this.scaling21 = true;
        break;
      case 0xe9: {
        // Status: bit 6 remote, 5 enabled, 4 scaling 2:1, 2 left, 1 middle, 0 right.
        let s = 0;
        if (this.remote) s |= 0x40;
        if (this.reporting) s |= 0x20;
        if (this.scaling21) s |= 0x10;
        if (this.buttons & 1) s |= 0x04;
        if (this.buttons & 4) s |= 0x02;
        if (this.buttons & 2) s |= 0x01;
        this.queue.push(ACK, s, this.resolution, this.sampleRate);
        return;
      }
      case 0xea:
        this.remote = false;
        this.dx = this.dy = this.dz = 0;
        break;
      case 0xeb: {
        // Read data: one packet with everything accumulated, overflow bits if it does not fit.
        this.queue.push(ACK, ...this.packet(this.dx, this.dy, clamp(this.dz, -8, 7)));
        this.dx = this.dy = this.dz = 0;
        return;
      }
      case 0xec:
        this.wrap = false;
        break;
      case 0xee:
        this.wrap = true;
        break;
      case 0xf0:
        this.remote = true;
        this.dx = this.dy = this.dz = 0;
        break;
      case 0xf2:
        this.queue.push(ACK, this.deviceId);
        return;
      case 0xf4:
        this.reporting = true;
        this.dx = this.dy = this.dz = 0;
        this.reportedButtons = this.buttons;
        break;
      case 0xf5:
        this.reporting = false;
        break;
      case 0xf6:
        this.setDefaults();
        break;
      case 0xfe:
        this.queue.push(this.lastSent);
        return;
      case 0xff:
        this.reset();
        this.queue.push(ACK, 0xaa, 0x00);
        return;
      default:
        this.queue.push(RESEND);
        return;
    }
    this.queue.push(ACK);
  }

  private argument(command: number, value: number): void {
    if (command === 0xe8) {
      if (value > 3) {
        this.queue.push(RESEND);
        return;
      }
      this.resolution = value;
    } else if (command === 0xf3) {
      if (!VALID_RATES.has(value)) {
        this.queue.push(RESEND);
        return;
      }
      this.sampleRate = value;
      this.rateHistory = [...this.rateHistory, value].slice(-3);
      const knock = this.rateHistory.join(',');
      if (this.deviceId === 0 && knock === '200,100,80') this.deviceId = 3;
      else if (this.deviceId === 3 && knock === '200,200,80') this.deviceId = 4;
    }
    this.queue.push(ACK);
  }

  // ---- state -----------------------------------------------------------------------------

  saveState(): DeviceState {
    return {
      version: 1,
      queue: this.queue.slice(),
      pendingCommand: this.pendingCommand,
      lastSent: this.lastSent,
      reporting: this.reporting,
      remote: this.remote,
      wrap: this.wrap,
      sampleRate: this.sampleRate,
      resolution: this.resolution,
      scaling21: this.scaling21,
      deviceId: this.deviceId,
      rateHistory: this.rateHistory.slice(),
      dx: this.dx,
      dy: this.dy,
      dz: this.dz,
      buttons: this.buttons,
      reportedButtons: this.reportedButtons,
    };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    this.queue = Array.from(state.queue as ArrayLike<number>, (b) => b & (PACKET_BYTE | 0xff));
    this.pendingCommand = Number(state.pendingCommand);
    this.lastSent = Number(state.lastSent);
    this.reporting = Boolean(state.reporting);
    this.remote = Boolean(state.remote);
    this.wrap = Boolean(state.wrap);
    this.sampleRate = Number(state.sampleRate);
    this.resolution = Number(state.resolution);
    this.scaling21 = Boolean(state.scaling21);
    this.deviceId = Number(state.deviceId);
    this.rateHistory = Array.from(state.rateHistory as ArrayLike<number>);
    this.dx = Number(state.dx);
    this.dy = Number(state.dy);
    this.dz = Number(state.dz);
    this.buttons = Number(state.buttons);
    this.reportedButtons = Number(state.reportedButtons);
  }
}
