/**
 * A USB HID tablet: an absolute pointer, so the guest's cursor sits exactly under the user's
 * pointer. It presents itself as QEMU's usb-tablet does (vendor 0627h, product 0001h, "QEMU USB
 * Tablet", a full-speed HID interface with no boot subclass, interrupt IN endpoint 1 of 8 bytes
 * polled every 10 ms), so the generic HID drivers of Windows (hidusb/mouhid) and Linux
 * (usbhid/hid-generic) drive it unchanged.
 *
 * Follows the Device Class Definition for HID 1.11 and the HID Usage Tables (Generic Desktop
 * page: Pointer, X, Y, Wheel; Button page 1-3). The 6-byte input report is: buttons (bit 0
 * left, 1 right, 2 middle), X and Y as 16-bit little-endian absolute values in 0..7FFFh, and a
 * signed 8-bit relative wheel.
 *
 * Button changes are queued (up to 16 reports), so a click shorter than the guest's polling
 * interval still reaches it; movement without a button change updates the newest queued report.
 *
 * Left out: a boot protocol (a tablet has no boot subclass, so GET/SET_PROTOCOL stall), more
 * than three buttons, horizontal wheel, and multiple heads.
 */
import type { Clock } from '../bus/clock.ts';
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import { hidDescriptor, type UsbDescriptors, UsbHidDevice } from './usb-device.ts';

/** The largest absolute coordinate, as the report descriptor's Logical Maximum says. */
export const TABLET_MAX = 0x7fff;
const QUEUE_LENGTH = 16;

// HID 1.11 items: tag/type/size byte followed by data. One application collection of a pointer.
const REPORT_DESCRIPTOR = new Uint8Array([
  0x05, 0x01, // Usage Page (Generic Desktop)
  0x09, 0x01, // Usage (Pointer)
  0xa1, 0x01, // Collection (Application)
  0x09, 0x01, //   Usage (Pointer)
  0xa1, 0x00, //   Collection (Physical)
  0x05, 0x09, //     Usage Page (Button)
  0x19, 0x01, //     Usage Minimum (1)
  0x29, 0x03, //     Usage Maximum (3)
  0x15, 0x00, //     Logical Minimum (0)
  0x25, 0x01, //     Logical Maximum (1)
  0x95, 0x03, //     Report Count (3)
  0x75, 0x01, //     Report Size (1)
  0x81, 0x02, //     Input (Data, Variable, Absolute): the three buttons
  0x95, 0x01, //     Report Count (1)
  0x75, 0x05, //     Report Size (5)
  0x81, 0x01, //     Input (Constant): padding to a byte
  0x05, 0x01, //     Usage Page (Generic Desktop)
  0x09, 0x30, //     Usage (X)
  0x09, 0x31, //     Usage (Y)
  0x15, 0x00, //     Logical Minimum (0)
  0x26, 0xff, 0x7f, // Logical Maximum (7FFFh)
  0x35, 0x00, //     Physical Minimum (0)
  0x46, 0xff, 0x7f, // Physical Maximum (7FFFh)
  0x75, 0x10, //     Report Size (16)
  0x95, 0x02, //     Report Count (2)
  0x81, 0x02, //     Input (Data, Variable, Absolute): X, Y
  0x05, 0x01, //     Usage Page (Generic Desktop)
  0x09, 0x38, //     Usage (Wheel)
  0x15, 0x81, //     Logical Minimum (-127)
  0x25, 0x7f, //     Logical Maximum (127)
  0x35, 0x00, //     Physical Minimum (0): physical = logical
  0x45, 0x00, //     Physical Maximum (0)
  0x75, 0x08, //     Report Size (8)
  0x95, 0x01, //     Report Count (1)
  0x81, 0x06, //     Input (Data, Variable, Relative): wheel
  0xc0, //         End Collection
  0xc0, //       End Collection
]);

export interface UsbHidTabletOptions {
  /** For the idle rate (SET_IDLE) timing. */
  clock: Clock;
  name?: string;
  /**
   * Serial number string. QEMU's "1" marks a device whose remote wakeup the guest should not
   * rely on, so Linux's udev rules leave autosuspend off; any other value lets Linux suspend
   * the idle tablet and wait for remote wakeup.
   */
  serial?: string;
}

interface TabletReport {
  x: number;
  y: number;
  buttons: number;
  wheel: number;
}

export class UsbHidTablet extends UsbHidDevice implements Device {
  readonly name: string;
  protected readonly descriptors: UsbDescriptors;
  protected readonly reportDescriptor = REPORT_DESCRIPTOR;
  /** The state of the last report sent. */
  private x = 0;
  private y = 0;
  private buttons = 0;
  private queue: TabletReport[] = [];

  constructor(options: UsbHidTabletOptions) {
    super(options.clock);
    this.name = options.name ?? 'usb-tablet';
    this.descriptors = {
      vendorId: 0x0627,
      productId: 0x0001,
      strings: ['', 'QEMU', 'QEMU USB Tablet', options.serial ?? '1', 'HID Tablet'],
      manufacturerString: 1,
      productString: 2,
      serialString: 3,
      configurationString: 4,
      configurationAttributes: 0xa0, // bus powered, remote wakeup
      maxPowerMilliamps: 100,
      interfaceClass: 3,
      interfaceSubclass: 0,
      interfaceProtocol: 2,
      classDescriptors: hidDescriptor(REPORT_DESCRIPTOR.length),
      endpoints: [{ address: 0x81, attributes: 3, maxPacketSize: 8, interval: 10 }],
    };
  }

  /**
   * The host pointer: `x`, `y` from 0 (left/top) to 1 (right/bottom) of the guest display,
   * `buttons` as DOM MouseEvent.buttons (bit 0 left, 1 right, 2 middle), `wheel` in detents,
   * positive away from the user (scroll up). Values outside the ranges are clamped.
   */
  pointer(x: number, y: number, buttons: number, wheel = 0): void {
    const entry: TabletReport = {
      x: scale(x),
      y: scale(y),
      buttons: buttons & 7,
      wheel: Number.isFinite(wheel) ? Math.trunc(wheel) : 0,
    };
    const last = this.queue[this.queue.length - 1];
    const lastButtons = last ? last.buttons : this.buttons;
    const lastX = last ? last.x : this.x;
    const lastY = last ? last.y : this.y;
    if (entry.x === lastX && entry.y === lastY && entry.buttons === lastButtons && entry.wheel === 0) return;
    if (last && (last.buttons === entry.buttons || this.queue.length >= QUEUE_LENGTH)) {
      last.x = entry.x;
      last.y = entry.y;
      last.buttons = entry.buttons;
      last.wheel = clampAccumulated(last.wheel + entry.wheel);
    } else {
      this.queue.push(entry);
    }
    this.signalWakeup();
  }

  protected hasPendingInput(): boolean {
    return this.queue.length > 0;
  }

  protected takeReport(): Uint8Array {
    const head = this.queue[0];
    let wheel = 0;
    if (head) {
      this.x = head.x;
      this.y = head.y;
      this.buttons = head.buttons;
      wheel = Math.max(-127, Math.min(127, head.wheel));
      head.wheel -= wheel;
      // A wheel turn larger than one report can carry stays queued for the next poll.
      if (head.wheel === 0) this.queue.shift();
    }
    return new Uint8Array([this.buttons, this.x & 0xff, this.x >> 8, this.y & 0xff, this.y >> 8, wheel & 0xff]);
  }

  reset(): void {
    this.busReset();
    this.x = 0;
    this.y = 0;
    this.buttons = 0;
    this.queue = [];
    this.lastReportNs = 0;
  }

  saveState(): DeviceState {
    return {
      version: 1,
      ...this.saveHidState(),
      position: [this.x, this.y, this.buttons],
      queue: this.queue.flatMap((r) => [r.x, r.y, r.buttons, r.wheel]),
    };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    this.loadHidState(state);
    [this.x, this.y, this.buttons] = state.position as number[];
    const q = state.queue as number[];
    this.queue = [];
    for (let i = 0; i + 3 < q.length; i += 4) this.queue.push({ x: q[i], y: q[i + 1], buttons: q[i + 2], wheel: q[i + 3] });
  }
}

function scale(v: number): number {
  if (!(v > 0)) return 0; // also NaN
  if (v >= 1) return TABLET_MAX;
  return Math.round(v * TABLET_MAX);
}

function clampAccumulated(v: number): number {
  return Math.max(-0x7fff, Math.min(0x7fff, v));
}
