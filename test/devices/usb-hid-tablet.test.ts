import { describe, expect, it } from 'vitest';
import { StateVersionError } from '../../src/bus/device.ts';
import { USB_NAK, USB_STALL, type UsbDevice } from '../../src/devices/usb-device.ts';
import { UsbHidTablet } from '../../src/devices/usb-hid-tablet.ts';
import { EventClock } from '../../src/machine/event-clock.ts';

function control(dev: UsbDevice, setup: number[]) {
  expect(dev.setup(new Uint8Array(setup))).toBe(8);
  const length = setup[6] | (setup[7] << 8);
  const data: number[] = [];
  if (setup[0] & 0x80) {
    while (data.length < length) {
      const r = dev.in(0);
      if (typeof r === 'number') return { data, stall: r === USB_STALL };
      data.push(...r);
      if (r.length < 8) break;
    }
    return { data, stall: dev.out(0, new Uint8Array(0)) === USB_STALL };
  }
  return { data, stall: dev.in(0) === USB_STALL };
}

/** Sums the bits of the Input main items of a HID report descriptor (HID 1.11, 6.2.2). */
function inputReportBits(descriptor: number[]): number {
  let size = 0;
  let count = 0;
  let bits = 0;
  let depth = 0;
  for (let i = 0; i < descriptor.length; ) {
    const prefix = descriptor[i];
    const n = [0, 1, 2, 4][prefix & 3];
    let value = 0;
    for (let j = 0; j < n; j++) value |= descriptor[i + 1 + j] << (8 * j);
    const tag = prefix & 0xfc;
    if (tag === 0x74) size = value;
    else if (tag === 0x94) count = value;
    else if (tag === 0x80) bits += size * count;
    else if (tag === 0xa0) depth++;
    else if (tag === 0xc0) depth--;
    i += 1 + n;
  }
  expect(depth).toBe(0);
  return bits;
}

function configured() {
  const clock = new EventClock();
  const tablet = new UsbHidTablet({ clock });
  control(tablet, [0x00, 5, 1, 0, 0, 0, 0, 0]);
  control(tablet, [0x00, 9, 1, 0, 0, 0, 0, 0]);
  const poll = () => {
    const r = tablet.in(1);
    return typeof r === 'number' ? r : [...r];
  };
  return { clock, tablet, poll };
}

describe('UsbHidTablet', () => {
  it('identifies itself as QEMU USB Tablet with a 6-byte absolute report', () => {
    const tablet = new UsbHidTablet({ clock: new EventClock() });
    const device = control(tablet, [0x80, 6, 0, 1, 0, 0, 18, 0]).data;
    expect(device.slice(8, 12)).toEqual([0x27, 0x06, 0x01, 0x00]);
    const product = control(tablet, [0x80, 6, device[15], 3, 0x09, 0x04, 255, 0]).data;
    expect(String.fromCharCode(...product.slice(2).filter((_, i) => i % 2 === 0))).toBe('QEMU USB Tablet');
    const serial = control(tablet, [0x80, 6, device[16], 3, 0x09, 0x04, 255, 0]).data;
    expect(serial).toEqual([4, 3, 0x31, 0]); // "1": no autosuspend by Linux's udev rules
    const other = new UsbHidTablet({ clock: new EventClock(), serial: '42' });
    expect(control(other, [0x80, 6, 3, 3, 0x09, 0x04, 255, 0]).data).toEqual([6, 3, 0x34, 0, 0x32, 0]);
    control(tablet, [0x00, 9, 1, 0, 0, 0, 0, 0]);
    const hid = control(tablet, [0x81, 6, 0, 0x21, 0, 0, 9, 0]).data;
    const report = control(tablet, [0x81, 6, 0, 0x22, 0, 0, 255, 0]).data;
    expect(report.length).toBe(hid[7] | (hid[8] << 8));
    expect(report.length).toBe(74);
    expect(inputReportBits(report)).toBe(48);
    // The report descriptor is an interface descriptor: asking the device for it stalls.
    expect(control(tablet, [0x80, 6, 0, 0x22, 0, 0, 255, 0]).stall).toBe(true);
  });

  it('reports the pointer position scaled to 0..7FFFh, buttons and wheel', () => {
    const { tablet, poll } = configured();
    expect(poll()).toBe(USB_NAK);
    tablet.pointer(0.5, 0.25, 1, 0);
    expect(poll()).toEqual([0x01, 0x00, 0x40, 0x00, 0x20, 0x00]);
    expect(poll()).toBe(USB_NAK);
    tablet.pointer(0.5, 0.25, 1, 0); // no change, no report
    expect(poll()).toBe(USB_NAK);
    tablet.pointer(1.5, -3, 4, 3);
    expect(poll()).toEqual([0x04, 0xff, 0x7f, 0x00, 0x00, 0x03]);
    tablet.pointer(NaN, 0.1, 0x1ff, -1);
    expect(poll()).toEqual([0x07, 0x00, 0x00, 0xcd, 0x0c, 0xff]); // y = round(0.1 * 7FFFh) = 0CCDh
  });

  it('keeps clicks shorter than the polling interval, and merges movement', () => {
    const { tablet, poll } = configured();
    tablet.pointer(0.1, 0.1, 0);
    tablet.pointer(0.2, 0.2, 0);
    tablet.pointer(0.3, 0.3, 1); // press
    tablet.pointer(0.3, 0.3, 0); // release before the next poll
    expect(poll()).toEqual([0, 0x99, 0x19, 0x99, 0x19, 0]); // 0.2 * 7FFFh = 1999h
    expect(poll()).toEqual([1, 0x66, 0x26, 0x66, 0x26, 0]); // 0.3 * 7FFFh = 2666h
    expect(poll()).toEqual([0, 0x66, 0x26, 0x66, 0x26, 0]);
    expect(poll()).toBe(USB_NAK);
    // A long burst of clicks: the queue is bounded, the final state is kept.
    for (let i = 0; i < 100; i++) tablet.pointer(0.5, 0.5, i & 1);
    tablet.pointer(0.75, 0.5, 2);
    let last: number[] = [];
    let reports = 0;
    for (let r = poll(); r !== USB_NAK; r = poll()) {
      last = r as number[];
      reports++;
    }
    expect(reports).toBeLessThanOrEqual(16);
    expect(last).toEqual([2, 0xff, 0x5f, 0x00, 0x40, 0]);
  });

  it('splits large wheel turns over several reports', () => {
    const { tablet, poll } = configured();
    tablet.pointer(0, 0, 0, 200);
    expect((poll() as number[])[5]).toBe(127);
    expect((poll() as number[])[5]).toBe(73);
    expect(poll()).toBe(USB_NAK);
  });

  it('repeats the report when the idle period runs out, after SET_IDLE', () => {
    const { tablet, poll, clock } = configured();
    tablet.pointer(0.5, 0.5, 0);
    poll();
    expect(control(tablet, [0x21, 0x0a, 0, 5, 0, 0, 0, 0]).stall).toBe(false); // 5 * 4 ms
    expect(control(tablet, [0xa1, 0x02, 0, 0, 0, 0, 1, 0]).data).toEqual([5]);
    clock.advanceBy(19_000_000);
    expect(poll()).toBe(USB_NAK);
    clock.advanceBy(1_000_000);
    expect(poll()).toEqual([0, 0x00, 0x40, 0x00, 0x40, 0]);
    clock.advanceBy(10_000_000);
    expect(poll()).toBe(USB_NAK);
    clock.advanceBy(10_000_000);
    expect(poll()).toEqual([0, 0x00, 0x40, 0x00, 0x40, 0]);
  });

  it('answers GET_REPORT and stalls the boot-protocol and output requests', () => {
    const { tablet } = configured();
    tablet.pointer(0.25, 0.75, 2);
    expect(control(tablet, [0xa1, 0x01, 0, 1, 0, 0, 8, 0]).data).toEqual([2, 0x00, 0x20, 0xff, 0x5f, 0]);
    expect(control(tablet, [0xa1, 0x01, 0, 3, 0, 0, 8, 0]).stall).toBe(true); // feature report
    expect(control(tablet, [0xa1, 0x01, 2, 1, 0, 0, 8, 0]).stall).toBe(true); // report ID 2
    expect(control(tablet, [0xa1, 0x03, 0, 0, 0, 0, 1, 0]).stall).toBe(true);
    expect(control(tablet, [0x21, 0x0b, 0, 0, 0, 0, 0, 0]).stall).toBe(true);
    expect(control(tablet, [0x21, 0x09, 0, 2, 0, 0, 0, 0]).stall).toBe(true);
    expect(control(tablet, [0x21, 0x0a, 0, 0, 1, 0, 0, 0]).stall).toBe(true); // interface 1
  });

  it('asks for remote wakeup only once the host armed it', () => {
    const { tablet } = configured();
    let wakeups = 0;
    tablet.onRemoteWakeup = () => wakeups++;
    tablet.pointer(0.1, 0.1, 0);
    expect(wakeups).toBe(0);
    control(tablet, [0x00, 3, 1, 0, 0, 0, 0, 0]);
    tablet.pointer(0.2, 0.1, 0);
    expect(wakeups).toBe(1);
  });

  it('saves and restores its queue and protocol state; reset clears them', () => {
    const { tablet, poll, clock } = configured();
    control(tablet, [0x21, 0x0a, 0, 25, 0, 0, 0, 0]);
    tablet.pointer(0.5, 0.5, 1);
    tablet.pointer(0.5, 0.5, 0, 5);
    const copy = new UsbHidTablet({ clock });
    copy.loadState(structuredClone(tablet.saveState()));
    expect(copy.address).toBe(1);
    expect(copy.idleRate).toBe(25);
    expect(copy.in(1)).toEqual(new Uint8Array(poll() as number[]));
    expect(copy.in(1)).toEqual(new Uint8Array(poll() as number[]));
    expect(() => copy.loadState({ version: 9 })).toThrow(StateVersionError);
    tablet.pointer(0.9, 0.9, 1);
    tablet.reset();
    expect(tablet.configuration).toBe(0);
    expect(tablet.in(1)).toBe(USB_STALL);
    control(tablet, [0x00, 9, 1, 0, 0, 0, 0, 0]);
    expect(tablet.in(1)).toBe(USB_NAK);
  });
});
