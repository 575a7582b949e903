/**
 * The interface between a USB host controller and the USB devices on its ports, and the parts
 * every device shares: the default control pipe (endpoint 0) with its SETUP / DATA / STATUS
 * stages and the standard requests of the USB 2.0 specification, chapter 9 (GET_STATUS,
 * CLEAR/SET_FEATURE, SET_ADDRESS, GET_DESCRIPTOR, GET/SET_CONFIGURATION, GET/SET_INTERFACE),
 * and the HID class requests of the Device Class Definition for HID 1.11, section 7.2
 * (GET_REPORT, GET/SET_IDLE, GET/SET_PROTOCOL and the HID and report descriptors), which the
 * tablet and the mouse share.
 *
 * A transaction is a synchronous call: the controller hands the device a token (SETUP with its
 * 8 bytes, OUT with its data, IN) and gets back the device's answer: data, an ACK, or a NAK,
 * STALL or no answer at all. Devices are full speed with an 8-byte endpoint 0.
 *
 * Left out: data toggles (no packet is ever lost between the emulated host and device, so the
 * sequence bits carry no information; the host controller does not send them), isochronous and
 * bulk endpoints, alternate interface settings (only setting 0 exists), SET_DESCRIPTOR and
 * SYNCH_FRAME (stalled, as optional requests may be), string descriptors in languages other
 * than US English, and the HID SET_REPORT request (pointers have no output reports).
 */
import type { Clock } from '../bus/clock.ts';
import type { DeviceState } from '../bus/device.ts';

/** Token PIDs as they appear in a transfer descriptor. */
export const USB_PID_SETUP = 0x2d;
export const USB_PID_IN = 0x69;
export const USB_PID_OUT = 0xe1;

/** Handshakes other than ACK (an ACK is a byte count >= 0, or data for an IN). */
export const USB_NAK = -1;
export const USB_STALL = -2;
/** The device did not answer at all: the host sees a time-out. */
export const USB_NO_RESPONSE = -3;

/** What the host controller needs from a device on one of its ports. */
export interface UsbDevice {
  /** Low-speed devices set the LSDA bit of their root port. */
  readonly lowSpeed: boolean;
  /** The address the device answers to (0 after a bus reset). */
  readonly address: number;
  /** A SETUP token with its 8 data bytes; returns 8 (ACK) or USB_NO_RESPONSE. */
  setup(data: Uint8Array): number;
  /** An OUT token to `endpoint` with its data; returns the bytes accepted, USB_NAK or USB_STALL. */
  out(endpoint: number, data: Uint8Array): number;
  /** An IN token to `endpoint`: the packet the device sends, USB_NAK or USB_STALL. */
  in(endpoint: number): Uint8Array | number;
  /** Reset signalling on the port: back to the Default state at address 0. */
  busReset(): void;
  /**
   * Set by the host port the device is plugged into; the device calls it when it has something
   * to report while remote wakeup is enabled, so a suspended port can signal resume.
   */
  onRemoteWakeup?: () => void;
}

// Standard request codes (USB 2.0 table 9-4) and descriptor types (table 9-5).
const GET_STATUS = 0;
const CLEAR_FEATURE = 1;
const SET_FEATURE = 3;
const SET_ADDRESS = 5;
const GET_DESCRIPTOR = 6;
const GET_CONFIGURATION = 8;
const SET_CONFIGURATION = 9;
const GET_INTERFACE = 10;
const SET_INTERFACE = 11;
export const DESCRIPTOR_DEVICE = 1;
export const DESCRIPTOR_CONFIGURATION = 2;
export const DESCRIPTOR_STRING = 3;
export const DESCRIPTOR_INTERFACE = 4;
export const DESCRIPTOR_ENDPOINT = 5;
export const DESCRIPTOR_HID = 0x21;
export const DESCRIPTOR_REPORT = 0x22;
const FEATURE_ENDPOINT_HALT = 0;
const FEATURE_DEVICE_REMOTE_WAKEUP = 1;

const RECIPIENT_DEVICE = 0;
const RECIPIENT_INTERFACE = 1;
const RECIPIENT_ENDPOINT = 2;
const TYPE_STANDARD = 0;
const TYPE_CLASS = 1;

/** Endpoint 0 packet size of every device here (bMaxPacketSize0). */
export const CONTROL_PACKET_SIZE = 8;

/** A decoded SETUP packet (USB 2.0, 9.3). */
export interface SetupPacket {
  requestType: number;
  request: number;
  value: number;
  index: number;
  length: number;
}

/** What a request handler answers: data for the host (IN requests), true (done), or a stall. */
export type RequestResult = Uint8Array | true | typeof USB_STALL;

// Control pipe states.
const IDLE = 0;
const DATA_IN = 1; // device sends data, then the host sends a zero-length OUT
const DATA_OUT = 2; // host sends data, then a zero-length IN
const STATUS_IN = 3; // no data stage: the host sends a zero-length IN
const STALLED = 4;

/** Identity and layout of a device's single configuration with one interface. */
export interface UsbDescriptors {
  vendorId: number;
  productId: number;
  /** Strings by index; index 0 (language list) is added automatically. */
  strings: string[];
  manufacturerString: number;
  productString: number;
  serialString: number;
  configurationString: number;
  /** bmAttributes of the configuration (0x80 bus powered, |0x40 self powered, |0x20 remote wakeup). */
  configurationAttributes: number;
  maxPowerMilliamps: number;
  interfaceClass: number;
  interfaceSubclass: number;
  interfaceProtocol: number;
  /** Class-specific descriptors placed between the interface and its endpoints (a HID descriptor). */
  classDescriptors: Uint8Array;
  /** Endpoints of the interface: address (0x81 = IN 1), attributes (3 = interrupt), size, interval. */
  endpoints: { address: number; attributes: number; maxPacketSize: number; interval: number }[];
}

/**
 * A full-speed device with one configuration (value 1) and one interface: the standard requests
 * and the control pipe are here; subclasses add class requests and their interrupt endpoints.
 */
export abstract class UsbDeviceBase implements UsbDevice {
  readonly lowSpeed = false;
  onRemoteWakeup?: () => void;
  address = 0;
  configuration = 0;
  remoteWakeup = false;
  /** Halt feature of the interface's endpoints, bit n = endpoint n. */
  protected halted = 0;
  private pendingAddress = -1;
  private controlState = IDLE;
  private controlData: Uint8Array = new Uint8Array(0);
  private controlOffset = 0;
  private controlSetup: SetupPacket = { requestType: 0, request: 0, value: 0, index: 0, length: 0 };

  protected abstract readonly descriptors: UsbDescriptors;

  /** Class or vendor requests, and standard requests this class does not know. */
  protected abstract classRequest(setup: SetupPacket, data: Uint8Array): RequestResult;
  /** An IN token to a configured, not halted interrupt endpoint: a report, or USB_NAK. */
  protected abstract interruptIn(endpoint: number): Uint8Array | number;

  setup(data: Uint8Array): number {
    // A SETUP always wins: it ends whatever control transfer was in progress (USB 2.0, 8.5.3).
    if (data.length !== 8) return USB_NO_RESPONSE;
    const s: SetupPacket = {
      requestType: data[0],
      request: data[1],
      value: data[2] | (data[3] << 8),
      index: data[4] | (data[5] << 8),
      length: data[6] | (data[7] << 8),
    };
    this.controlSetup = s;
    this.pendingAddress = -1;
    this.controlOffset = 0;
    this.controlData = new Uint8Array(0);
    if (s.requestType & 0x80) {
      const result = this.request(s, this.controlData);
      if (result instanceof Uint8Array) {
        this.controlData = result.subarray(0, s.length);
        this.controlState = DATA_IN;
      } else {
        this.controlState = result === true ? DATA_IN : STALLED;
      }
    } else if (s.length > 0) {
      this.controlData = new Uint8Array(s.length);
      this.controlState = DATA_OUT;
    } else {
      this.controlState = this.request(s, this.controlData) === USB_STALL ? STALLED : STATUS_IN;
    }
    return 8;
  }

  out(endpoint: number, data: Uint8Array): number {
    if (endpoint !== 0) return USB_STALL; // no OUT endpoints
    switch (this.controlState) {
      case DATA_OUT: {
        const n = Math.min(data.length, this.controlData.length - this.controlOffset);
        this.controlData.set(data.subarray(0, n), this.controlOffset);
        this.controlOffset += n;
        return data.length;
      }
      case DATA_IN:
        // The status stage of a read; the host may end the data stage early.
        this.controlState = IDLE;
        return data.length;
      default:
        this.controlState = STALLED;
        return USB_STALL;
    }
  }

  in(endpoint: number): Uint8Array | number {
    if (endpoint !== 0) {
      if (this.configuration === 0 || !this.hasInEndpoint(endpoint)) return USB_STALL;
      if (this.halted & (1 << endpoint)) return USB_STALL;
      return this.interruptIn(endpoint);
    }
    switch (this.controlState) {
      case DATA_IN: {
        // After the last byte the device answers with zero-length packets.
        const n = Math.min(CONTROL_PACKET_SIZE, this.controlData.length - this.controlOffset);
        const packet = this.controlData.slice(this.controlOffset, this.controlOffset + n);
        this.controlOffset += n;
        return packet;
      }
      case DATA_OUT: {
        // Status stage of a write: now the request runs with its data.
        const result = this.request(this.controlSetup, this.controlData.subarray(0, this.controlOffset));
        if (result === USB_STALL) {
          this.controlState = STALLED;
          return USB_STALL;
        }
        this.controlState = IDLE;
        return new Uint8Array(0);
      }
      case STATUS_IN:
        this.controlState = IDLE;
        // SET_ADDRESS takes effect only once its status stage has completed (USB 2.0, 9.4.6).
        if (this.pendingAddress >= 0) this.address = this.pendingAddress;
        this.pendingAddress = -1;
        return new Uint8Array(0);
      default:
        return USB_STALL;
    }
  }

  busReset(): void {
    this.address = 0;
    this.configuration = 0;
    this.remoteWakeup = false;
    this.halted = 0;
    this.pendingAddress = -1;
    this.controlState = IDLE;
    this.controlData = new Uint8Array(0);
    this.controlOffset = 0;
  }

  /** Calls the host's wakeup hook when remote wakeup is armed. */
  protected signalWakeup(): void {
    if (this.remoteWakeup) this.onRemoteWakeup?.();
  }

  private hasInEndpoint(endpoint: number): boolean {
    return this.descriptors.endpoints.some((e) => e.address === (0x80 | endpoint));
  }

  private request(s: SetupPacket, data: Uint8Array): RequestResult {
    const type = (s.requestType >> 5) & 3;
    if (type === TYPE_STANDARD) {
      const result = this.standardRequest(s);
      if (result !== undefined) return result;
    }
    return this.classRequest(s, data);
  }

  /** The chapter 9 requests; undefined passes the request on to the class. */
  private standardRequest(s: SetupPacket): RequestResult | undefined {
    const recipient = s.requestType & 0x1f;
    const deviceToHost = (s.requestType & 0x80) !== 0;
    switch (s.request) {
      case GET_STATUS:
        if (!deviceToHost) return USB_STALL;
        if (recipient === RECIPIENT_DEVICE) {
          const selfPowered = this.descriptors.configurationAttributes & 0x40 ? 1 : 0;
          return new Uint8Array([selfPowered | (this.remoteWakeup ? 2 : 0), 0]);
        }
        if (recipient === RECIPIENT_INTERFACE) return this.interfaceExists(s.index) ? new Uint8Array(2) : USB_STALL;
        if (recipient === RECIPIENT_ENDPOINT) {
          const ep = this.endpointBit(s.index);
          return ep < 0 ? USB_STALL : new Uint8Array([this.halted & (1 << ep) ? 1 : 0, 0]);
        }
        return USB_STALL;
      case CLEAR_FEATURE:
      case SET_FEATURE: {
        if (deviceToHost) return USB_STALL;
        const on = s.request === SET_FEATURE;
        if (recipient === RECIPIENT_DEVICE && s.value === FEATURE_DEVICE_REMOTE_WAKEUP) {
          if (!(this.descriptors.configurationAttributes & 0x20)) return USB_STALL;
          this.remoteWakeup = on;
          return true;
        }
        if (recipient === RECIPIENT_ENDPOINT && s.value === FEATURE_ENDPOINT_HALT) {
          const ep = this.endpointBit(s.index);
          if (ep < 0) return USB_STALL;
          // Endpoint 0 cannot be halted by request; a request to halt it simply succeeds.
          if (ep > 0) this.halted = on ? this.halted | (1 << ep) : this.halted & ~(1 << ep);
          return true;
        }
        return USB_STALL;
      }
      case SET_ADDRESS:
        // USB 2.0 leaves SET_ADDRESS in the Configured state unspecified; it is simply obeyed.
        if (deviceToHost || recipient !== RECIPIENT_DEVICE || s.value > 127) return USB_STALL;
        this.pendingAddress = s.value;
        return true;
      case GET_DESCRIPTOR:
        if (!deviceToHost) return USB_STALL;
        if (recipient === RECIPIENT_DEVICE) return this.standardDescriptor(s.value >> 8, s.value & 0xff, s.index);
        return undefined; // interface descriptors (HID, report) belong to the class
      case GET_CONFIGURATION:
        return deviceToHost && recipient === RECIPIENT_DEVICE ? new Uint8Array([this.configuration]) : USB_STALL;
      case SET_CONFIGURATION:
        if (deviceToHost || recipient !== RECIPIENT_DEVICE || (s.value & 0xff) > 1) return USB_STALL;
        this.configuration = s.value & 0xff;
        this.halted = 0;
        this.configurationChanged();
        return true;
      case GET_INTERFACE:
        if (!deviceToHost || recipient !== RECIPIENT_INTERFACE || !this.interfaceExists(s.index)) return USB_STALL;
        return new Uint8Array([0]);
      case SET_INTERFACE:
        if (deviceToHost || recipient !== RECIPIENT_INTERFACE || !this.interfaceExists(s.index)) return USB_STALL;
        return s.value === 0 ? true : USB_STALL;
      default:
        return USB_STALL;
    }
  }

  /** Hook for subclasses: the configuration was set (or cleared). */
  protected configurationChanged(): void {}

  private interfaceExists(index: number): boolean {
    return this.configuration !== 0 && (index & 0xff) === 0;
  }

  /** Bit number of the endpoint named by a wIndex, or -1 if the device has no such endpoint. */
  private endpointBit(index: number): number {
    const address = index & 0xff;
    if ((address & 0x7f) === 0) return 0;
    if (this.configuration === 0) return -1;
    return this.descriptors.endpoints.some((e) => e.address === address) ? address & 0x0f : -1;
  }

  private standardDescriptor(type: number, index: number, language: number): RequestResult {
    const d = this.descriptors;
    switch (type) {
      case DESCRIPTOR_DEVICE:
        if (index !== 0) return USB_STALL;
        return new Uint8Array([
          18, DESCRIPTOR_DEVICE, 0x00, 0x01, // bcdUSB 1.00, as QEMU's HID devices report at full speed
          0, 0, 0, // class per interface
          CONTROL_PACKET_SIZE,
          d.vendorId & 0xff, d.vendorId >> 8, d.productId & 0xff, d.productId >> 8,
          0x00, 0x00, // bcdDevice
          d.manufacturerString, d.productString, d.serialString,
          1, // bNumConfigurations
        ]);
      case DESCRIPTOR_CONFIGURATION:
        return index === 0 ? this.configurationDescriptor() : USB_STALL;
      case DESCRIPTOR_STRING: {
        if (index === 0) return new Uint8Array([4, DESCRIPTOR_STRING, 0x09, 0x04]); // US English
        const text = d.strings[index];
        if (text === undefined || (language !== 0x0409 && language !== 0)) return USB_STALL;
        const out = new Uint8Array(2 + 2 * text.length);
        out[0] = out.length;
        out[1] = DESCRIPTOR_STRING;
        for (let i = 0; i < text.length; i++) {
          out[2 + 2 * i] = text.charCodeAt(i) & 0xff;
          out[3 + 2 * i] = text.charCodeAt(i) >> 8;
        }
        return out;
      }
      default:
        // Device qualifier and other-speed descriptors: a full-speed-only device stalls (9.6.2).
        return USB_STALL;
    }
  }

  /** Configuration, interface, class-specific and endpoint descriptors in one block. */
  configurationDescriptor(): Uint8Array {
    const d = this.descriptors;
    const total = 9 + 9 + d.classDescriptors.length + 7 * d.endpoints.length;
    const out = new Uint8Array(total);
    out.set([
      9, DESCRIPTOR_CONFIGURATION, total & 0xff, total >> 8, 1, 1, d.configurationString,
      d.configurationAttributes, d.maxPowerMilliamps >> 1,
      9, DESCRIPTOR_INTERFACE, 0, 0, d.endpoints.length, d.interfaceClass, d.interfaceSubclass, d.interfaceProtocol, 0,
    ]);
    out.set(d.classDescriptors, 18);
    let at = 18 + d.classDescriptors.length;
    for (const e of d.endpoints) {
      out.set([7, DESCRIPTOR_ENDPOINT, e.address, e.attributes, e.maxPacketSize & 0xff, e.maxPacketSize >> 8, e.interval], at);
      at += 7;
    }
    return out;
  }

  /** The state every device shares, as plain fields for a subclass's saveState. */
  protected saveUsbState(): Record<string, unknown> {
    const s = this.controlSetup;
    return {
      address: this.address,
      configuration: this.configuration,
      remoteWakeup: this.remoteWakeup,
      halted: this.halted,
      pendingAddress: this.pendingAddress,
      controlState: this.controlState,
      controlData: this.controlData.slice(),
      controlOffset: this.controlOffset,
      controlSetup: [s.requestType, s.request, s.value, s.index, s.length],
    };
  }

  protected loadUsbState(state: DeviceState): void {
    this.address = Number(state.address) & 0x7f;
    this.configuration = Number(state.configuration) & 0xff;
    this.remoteWakeup = !!state.remoteWakeup;
    this.halted = Number(state.halted) | 0;
    this.pendingAddress = Number(state.pendingAddress) | 0;
    this.controlState = Number(state.controlState) | 0;
    this.controlData = (state.controlData as Uint8Array).slice();
    this.controlOffset = Number(state.controlOffset) | 0;
    const [requestType, request, value, index, length] = state.controlSetup as number[];
    this.controlSetup = { requestType, request, value, index, length };
  }
}

// HID class requests (HID 1.11, 7.2).
const HID_GET_REPORT = 0x01;
const HID_GET_IDLE = 0x02;
const HID_GET_PROTOCOL = 0x03;
const HID_SET_IDLE = 0x0a;
const HID_SET_PROTOCOL = 0x0b;
const HID_REPORT_INPUT = 1;

/** A HID descriptor (HID 1.11, 6.2.1) announcing one report descriptor of `reportLength` bytes. */
export function hidDescriptor(reportLength: number): Uint8Array {
  return new Uint8Array([9, DESCRIPTOR_HID, 0x11, 0x01, 0, 1, DESCRIPTOR_REPORT, reportLength & 0xff, reportLength >> 8]);
}

/**
 * A HID pointing device with one interrupt IN endpoint (1): the report descriptor, the idle
 * rate, boot/report protocol for boot-interface devices, and the rule for when the interrupt
 * endpoint has a report: when the state changed, or when the idle period ran out.
 */
export abstract class UsbHidDevice extends UsbDeviceBase {
  /** Idle rate in units of 4 ms; 0 = report only on change (the default for pointers). */
  idleRate = 0;
  /** 1 = report protocol, 0 = boot protocol (boot-interface devices only). */
  protocol = 1;
  /** Guest time of the last report sent on the interrupt endpoint. */
  protected lastReportNs = 0;

  constructor(protected readonly clock: Clock) {
    super();
  }

  protected abstract readonly reportDescriptor: Uint8Array;
  /** True when input arrived that the host has not been sent yet. */
  protected abstract hasPendingInput(): boolean;
  /** The next input report in the current protocol, consuming the input it reports. */
  protected abstract takeReport(): Uint8Array;

  private get bootInterface(): boolean {
    return this.descriptors.interfaceSubclass === 1;
  }

  protected interruptIn(): Uint8Array | number {
    const now = this.clock.now();
    const idleDue = this.idleRate !== 0 && now - this.lastReportNs >= this.idleRate * 4_000_000;
    if (!this.hasPendingInput() && !idleDue) return USB_NAK;
    this.lastReportNs = now;
    return this.takeReport();
  }

  protected classRequest(s: SetupPacket, _data: Uint8Array): RequestResult {
    const type = (s.requestType >> 5) & 3;
    const recipient = s.requestType & 0x1f;
    if (recipient !== RECIPIENT_INTERFACE || (s.index & 0xff) !== 0) return USB_STALL;
    const deviceToHost = (s.requestType & 0x80) !== 0;
    if (type === TYPE_STANDARD) {
      if (s.request !== GET_DESCRIPTOR || !deviceToHost) return USB_STALL;
      if (s.value >> 8 === DESCRIPTOR_HID) return this.descriptors.classDescriptors.slice(0, 9);
      if (s.value >> 8 === DESCRIPTOR_REPORT) return this.reportDescriptor.slice();
      return USB_STALL;
    }
    if (type !== TYPE_CLASS) return USB_STALL;
    switch (s.request) {
      case HID_GET_REPORT:
        // Only input reports exist, without report IDs.
        if (!deviceToHost || s.value >> 8 !== HID_REPORT_INPUT || (s.value & 0xff) !== 0) return USB_STALL;
        return this.takeReport();
      case HID_GET_IDLE:
        return deviceToHost ? new Uint8Array([this.idleRate]) : USB_STALL;
      case HID_SET_IDLE:
        if (deviceToHost) return USB_STALL;
        this.idleRate = s.value >> 8;
        // The new period counts from now (HID 1.11, 7.2.4: a new rate takes effect after the current report).
        this.lastReportNs = this.clock.now();
        return true;
      case HID_GET_PROTOCOL:
        if (!deviceToHost || !this.bootInterface) return USB_STALL;
        return new Uint8Array([this.protocol]);
      case HID_SET_PROTOCOL:
        if (deviceToHost || !this.bootInterface || s.value > 1) return USB_STALL;
        this.protocol = s.value;
        return true;
      default:
        return USB_STALL;
    }
  }

  busReset(): void {
    super.busReset();
    // HID 1.11, 7.2.6: a device comes out of reset in report protocol.
    this.protocol = 1;
    this.idleRate = 0;
  }

  protected saveHidState(): Record<string, unknown> {
    return { ...this.saveUsbState(), idleRate: this.idleRate, protocol: this.protocol, lastReportNs: this.lastReportNs };
  }

  protected loadHidState(state: DeviceState): void {
    this.loadUsbState(state);
    this.idleRate = Number(state.idleRate) & 0xff;
    this.protocol = Number(state.protocol) ? 1 : 0;
    this.lastReportNs = Number(state.lastReportNs) || 0;
  }
}
