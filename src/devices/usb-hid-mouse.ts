/**
 * A USB HID mouse: a relative pointer, as QEMU's usb-mouse presents it (vendor 0627h, product
 * 0001h, "QEMU USB Mouse", a boot-subclass HID interface with the mouse protocol and interrupt
 * IN endpoint 1 of 4 bytes polled every 10 ms).
 *
 * Follows the Device Class Definition for HID 1.11: in report protocol (the default) the input
 * report is 4 bytes, buttons (bit 0 left, 1 right, 2 middle) then signed 8-bit X, Y and wheel
 * movement; in boot protocol (SET_PROTOCOL 0, used by BIOSes and simple drivers, appendix B.2)
 * it is the first 3 of those bytes. Movement larger than a report can carry (beyond +-127) is
 * reported over the following polls; button changes are queued (up to 16 reports) so a click
 * shorter than the polling interval still reaches the guest.
 *
 * Left out: more than three buttons, horizontal wheel, and pointer acceleration (the guest's
 * business).
 */
import type { Clock } from '../bus/clock.ts';
import { checkStateVersion, type Device, type DeviceState } from '../bus/device.ts';
import { hidDescriptor, type UsbDescriptors, UsbHidDevice } from './usb-device.ts';

const QUEUE_LENGTH = 16;
/** Movement accumulated beyond this is dropped, as a mouse's counter would saturate. */
const ACCUMULATE_LIMIT = 0x7fff;

// HID 1.11 items: one application collection of a mouse with a pointer inside.
const REPORT_DESCRIPTOR = new Uint8Array([
  0x05, 0x01, // Usage Page (Generic Desktop)
  0x09, 0x02, // Usage (Mouse)
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
  0x09, 0x38, //     Usage (Wheel)
  0x15, 0x81, //     Logical Minimum (-127)
  0x25, 0x7f, //     Logical Maximum (127)
  0x75, 0x08, //     Report Size (8)
  0x95, 0x03, //     Report Count (3)
  0x81, 0x06, //     Input (Data, Variable, Relative): X, Y, wheel
  0xc0, //         End Collection
  0xc0, //       End Collection
]);

export interface UsbHidMouseOptions {
  /** For the idle rate (SET_IDLE) timing. */
  clock: Clock;
  name?: string;
  /** Serial number string; see UsbHidTabletOptions.serial. */
  serial?: string;
}

interface MouseReport {
  dx: number;
  dy: number;
  dz: number;
  buttons: number;
}

export class UsbHidMouse extends UsbHidDevice implements Device {
  readonly name: string;
  protected readonly descriptors: UsbDescriptors;
  protected readonly reportDescriptor = REPORT_DESCRIPTOR;
  /** Buttons of the last report sent. */
  private buttons = 0;
  private queue: MouseReport[] = [];

  constructor(options: UsbHidMouseOptions) {
    super(options.clock);
    this.name = options.name ?? 'usb-mouse';
    this.descriptors = {
      vendorId: 0x0627,
      productId: 0x0001,
      strings: ['', 'QEMU', 'QEMU USB Mouse', options.serial ?? '1', 'HID Mouse'],
      manufacturerString: 1,
      productString: 2,
      serialString: 3,
      configurationString: 4,
      configurationAttributes: 0xa0, // bus powered, remote wakeup
      maxPowerMilliamps: 100,
      interfaceClass: 3,
      interfaceSubclass: 1, // boot interface
      interfaceProtocol: 2, // mouse
      classDescriptors: hidDescriptor(REPORT_DESCRIPTOR.length),
      endpoints: [{ address: 0x81, attributes: 3, maxPacketSize: 4, interval: 10 }],
    };
  }

  /**
   * Host mouse movement: `dx` right, `dy` down, `dz` wheel detents away from the user (scroll
   * up), `buttons` as DOM MouseEvent.buttons (bit 0 left, 1 right, 2 middle).
   */
  move(dx: number, dy: number, dz: number, buttons: number): void {
    const ix = finiteInt(dx);
    const iy = finiteInt(dy);
    const iz = finiteInt(dz);
    const b = buttons & 7;
    const last = this.queue[this.queue.length - 1];
    const lastButtons = last ? last.buttons : this.buttons;
    if (ix === 0 && iy === 0 && iz === 0 && b === lastButtons) return;
    if (last && (last.buttons === b || this.queue.length >= QUEUE_LENGTH)) {
      last.dx = saturate(last.dx + ix);
      last.dy = saturate(last.dy + iy);
      last.dz = saturate(last.dz + iz);
      last.buttons = b;
    } else {
      this.queue.push({ dx: saturate(ix), dy: saturate(iy), dz: saturate(iz), buttons: b });
    }
    this.signalWakeup();
  }

  protected hasPendingInput(): boolean {
    return this.queue.length > 0;
  }

  protected takeReport(): Uint8Array {
    const head = this.queue[0];
    let dx = 0;
    let dy = 0;
    let dz = 0;
    if (head) {
      this.buttons = head.buttons;
      dx = clamp8(head.dx);
      dy = clamp8(head.dy);
      head.dx -= dx;
      head.dy -= dy;
      if (this.protocol === 1) {
        dz = clamp8(head.dz);
        head.dz -= dz;
      } else {
        head.dz = 0; // the boot report has no wheel
      }
      if (head.dx === 0 && head.dy === 0 && head.dz === 0) this.queue.shift();
    }
    const report = [this.buttons, dx & 0xff, dy & 0xff];
    if (this.protocol === 1) report.push(dz & 0xff);
    return new Uint8Array(report);
  }

  reset(): void {
    this.busReset();
    this.buttons = 0;
    this.queue = [];
    this.lastReportNs = 0;
  }

  saveState(): DeviceState {
    return {
      version: 1,
      ...this.saveHidState(),
      buttons: this.buttons,
      queue: this.queue.flatMap((r) => [r.dx, r.dy, r.dz, r.buttons]),
    };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    this.loadHidState(state);
    this.buttons = Number(state.buttons) & 7;
    const q = state.queue as number[];
    this.queue = [];
    for (let i = 0; i + 3 < q.length; i += 4) this.queue.push({ dx: q[i], dy: q[i + 1], dz: q[i + 2], buttons: q[i + 3] });
  }
}

function finiteInt(v: number): number {
  return Number.isFinite(v) ? Math.trunc(v) : 0;
}

function saturate(v: number): number {
  return Math.max(-ACCUMULATE_LIMIT, Math.min(ACCUMULATE_LIMIT, v));
}

function clamp8(v: number): number {
  return Math.max(-127, Math.min(127, v));
}
