import { describe, expect, it } from 'vitest';
import { StateVersionError } from '../../src/bus/device.ts';
import { USB_NAK, USB_STALL, type UsbDevice } from '../../src/devices/usb-device.ts';
import { UsbHidMouse } from '../../src/devices/usb-hid-mouse.ts';
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

function configured() {
  const clock = new EventClock();
  const mouse = new UsbHidMouse({ clock });
  control(mouse, [0x00, 5, 2, 0, 0, 0, 0, 0]);
  control(mouse, [0x00, 9, 1, 0, 0, 0, 0, 0]);
  const poll = () => {
    const r = mouse.in(1);
    return typeof r === 'number' ? r : [...r];
  };
  return { clock, mouse, poll };
}

describe('UsbHidMouse', () => {
  it('is a boot-interface mouse with a 4-byte endpoint and a 52-byte report descriptor', () => {
    const { mouse } = configured();
    const config = control(mouse, [0x80, 6, 0, 2, 0, 0, 255, 0]).data;
    expect(config.slice(9, 18)).toEqual([9, 4, 0, 0, 1, 3, 1, 2, 0]);
    expect(config.slice(18, 27)).toEqual([9, 0x21, 0x11, 0x01, 0, 1, 0x22, 52, 0]);
    expect(config.slice(27)).toEqual([7, 5, 0x81, 3, 4, 0, 10]);
    const report = control(mouse, [0x81, 6, 0, 0x22, 0, 0, 255, 0]).data;
    expect(report.length).toBe(52);
    expect(report.slice(0, 4)).toEqual([0x05, 0x01, 0x09, 0x02]); // Generic Desktop, Mouse
    const product = control(mouse, [0x80, 6, 2, 3, 0x09, 0x04, 255, 0]).data;
    expect(String.fromCharCode(...product.slice(2).filter((_, i) => i % 2 === 0))).toBe('QEMU USB Mouse');
  });

  it('reports relative movement as signed bytes, splitting what does not fit', () => {
    const { mouse, poll } = configured();
    expect(poll()).toBe(USB_NAK);
    mouse.move(5, -3, 1, 1);
    expect(poll()).toEqual([1, 5, 0xfd, 1]);
    expect(poll()).toBe(USB_NAK);
    mouse.move(300, -200, 0, 1);
    expect(poll()).toEqual([1, 127, 0x81, 0]);
    expect(poll()).toEqual([1, 127, 0xb7, 0]); // -200 = -127 - 73
    expect(poll()).toEqual([1, 46, 0, 0]);
    expect(poll()).toBe(USB_NAK);
    mouse.move(Infinity, NaN, 0, 1); // nothing usable, no change
    expect(poll()).toBe(USB_NAK);
  });

  it('merges movement between polls but keeps every button change', () => {
    const { mouse, poll } = configured();
    mouse.move(1, 1, 0, 0);
    mouse.move(2, 2, 0, 0);
    mouse.move(0, 0, 0, 4); // middle down
    mouse.move(0, 0, 0, 0); // and up
    expect(poll()).toEqual([0, 3, 3, 0]);
    expect(poll()).toEqual([4, 0, 0, 0]);
    expect(poll()).toEqual([0, 0, 0, 0]);
    expect(poll()).toBe(USB_NAK);
  });

  it('switches to the 3-byte boot report with SET_PROTOCOL 0, and back on bus reset', () => {
    const { mouse, poll } = configured();
    expect(control(mouse, [0xa1, 0x03, 0, 0, 0, 0, 1, 0]).data).toEqual([1]);
    expect(control(mouse, [0x21, 0x0b, 0, 0, 0, 0, 0, 0]).stall).toBe(false);
    expect(control(mouse, [0xa1, 0x03, 0, 0, 0, 0, 1, 0]).data).toEqual([0]);
    mouse.move(-1, 2, 5, 2);
    expect(poll()).toEqual([2, 0xff, 2]); // no wheel in the boot report
    expect(poll()).toBe(USB_NAK);
    expect(control(mouse, [0x21, 0x0b, 2, 0, 0, 0, 0, 0]).stall).toBe(true);
    mouse.busReset();
    expect(mouse.protocol).toBe(1);
  });

  it('reports through GET_REPORT as well', () => {
    const { mouse } = configured();
    mouse.move(10, 20, -1, 1);
    expect(control(mouse, [0xa1, 0x01, 0, 1, 0, 0, 4, 0]).data).toEqual([1, 10, 20, 0xff]);
    expect(control(mouse, [0xa1, 0x01, 0, 1, 0, 0, 4, 0]).data).toEqual([1, 0, 0, 0]);
  });

  it('saves and restores pending movement', () => {
    const { mouse, poll, clock } = configured();
    control(mouse, [0x21, 0x0b, 0, 0, 0, 0, 0, 0]);
    mouse.move(200, 0, 0, 1);
    const copy = new UsbHidMouse({ clock });
    copy.loadState(structuredClone(mouse.saveState()));
    expect(copy.protocol).toBe(0);
    expect(copy.in(1)).toEqual(new Uint8Array(poll() as number[]));
    expect(copy.in(1)).toEqual(new Uint8Array([1, 73, 0]));
    expect(() => copy.loadState({ version: 0 })).toThrow(StateVersionError);
    mouse.reset();
    expect(mouse.address).toBe(0);
  });
});
