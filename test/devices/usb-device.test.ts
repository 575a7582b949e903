import { describe, expect, it } from 'vitest';
import type { DeviceState } from '../../src/bus/device.ts';
import {
  hidDescriptor,
  type RequestResult,
  type SetupPacket,
  USB_NAK,
  USB_NO_RESPONSE,
  USB_STALL,
  type UsbDescriptors,
  UsbDeviceBase,
  type UsbDevice,
} from '../../src/devices/usb-device.ts';

/** A device with a vendor OUT request and an interrupt endpoint that counts polls. */
class TestDevice extends UsbDeviceBase {
  received: number[] = [];
  polls = 0;
  protected readonly descriptors: UsbDescriptors;
  constructor(attributes = 0xa0) {
    super();
    this.descriptors = {
      vendorId: 0x1234,
      productId: 0x5678,
      strings: ['', 'Maker', 'Thing \u00e9'],
      manufacturerString: 1,
      productString: 2,
      serialString: 0,
      configurationString: 0,
      configurationAttributes: attributes,
      maxPowerMilliamps: 200,
      interfaceClass: 0xff,
      interfaceSubclass: 0,
      interfaceProtocol: 0,
      classDescriptors: new Uint8Array(0),
      endpoints: [{ address: 0x81, attributes: 3, maxPacketSize: 8, interval: 4 }],
    };
  }
  protected classRequest(s: SetupPacket, data: Uint8Array): RequestResult {
    if (s.requestType === 0x40 && s.request === 0x42) {
      this.received = [...data];
      return true;
    }
    return USB_STALL;
  }
  protected interruptIn(): Uint8Array | number {
    this.polls++;
    return this.polls % 2 ? USB_NAK : new Uint8Array([this.polls]);
  }
  save(): Record<string, unknown> {
    return this.saveUsbState();
  }
  load(s: DeviceState): void {
    this.loadUsbState(s);
  }
}

/** A control transfer the way a host runs it: SETUP, data packets, status. */
function control(dev: UsbDevice, setup: number[], out: number[] = []) {
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
  for (let i = 0; i < out.length; i += 8) {
    if (dev.out(0, new Uint8Array(out.slice(i, i + 8))) === USB_STALL) return { data, stall: true };
  }
  const status = dev.in(0);
  return { data, stall: status === USB_STALL, zeroLength: status instanceof Uint8Array && status.length === 0 };
}

describe('UsbDeviceBase', () => {
  it('answers SETUP packets of 8 bytes only', () => {
    const d = new TestDevice();
    expect(d.setup(new Uint8Array(7))).toBe(USB_NO_RESPONSE);
    expect(d.setup(new Uint8Array([0x80, 6, 0, 1, 0, 0, 18, 0]))).toBe(8);
  });

  it('sends descriptors in 8-byte packets, cut to wLength, then zero-length packets', () => {
    const d = new TestDevice();
    const r = control(d, [0x80, 6, 0, 1, 0, 0, 64, 0]);
    expect(r.data).toEqual([18, 1, 0, 1, 0, 0, 0, 8, 0x34, 0x12, 0x78, 0x56, 0, 0, 1, 2, 0, 1]);
    expect(d.setup(new Uint8Array([0x80, 6, 0, 1, 0, 0, 16, 0]))).toBe(8);
    expect((d.in(0) as Uint8Array).length).toBe(8);
    expect((d.in(0) as Uint8Array).length).toBe(8);
    expect((d.in(0) as Uint8Array).length).toBe(0);
    // The host may end the data stage early with the status OUT.
    expect(d.setup(new Uint8Array([0x80, 6, 0, 2, 0, 0, 0xff, 0]))).toBe(8);
    expect((d.in(0) as Uint8Array)[0]).toBe(9);
    expect(d.out(0, new Uint8Array(0))).toBe(0);
    expect(d.in(0)).toBe(USB_STALL); // no transfer in progress any more
  });

  it('builds the configuration descriptor from its parts', () => {
    const d = new TestDevice();
    expect([...d.configurationDescriptor()]).toEqual([
      9, 2, 25, 0, 1, 1, 0, 0xa0, 100,
      9, 4, 0, 0, 1, 0xff, 0, 0, 0,
      7, 5, 0x81, 3, 8, 0, 4,
    ]);
    expect([...hidDescriptor(300)]).toEqual([9, 0x21, 0x11, 0x01, 0, 1, 0x22, 0x2c, 0x01]);
  });

  it('returns US English strings in UTF-16 and stalls unknown ones', () => {
    const d = new TestDevice();
    expect(control(d, [0x80, 6, 0, 3, 0, 0, 255, 0]).data).toEqual([4, 3, 0x09, 0x04]);
    expect(control(d, [0x80, 6, 2, 3, 0x09, 0x04, 255, 0]).data).toEqual([16, 3, 84, 0, 104, 0, 105, 0, 110, 0, 103, 0, 32, 0, 0xe9, 0]);
    expect(control(d, [0x80, 6, 7, 3, 0x09, 0x04, 255, 0]).stall).toBe(true);
    expect(control(d, [0x80, 6, 1, 3, 0x07, 0x04, 255, 0]).stall).toBe(true);
    // Device qualifier: full-speed-only devices stall it.
    expect(control(d, [0x80, 6, 0, 6, 0, 0, 10, 0]).stall).toBe(true);
  });

  it('takes a new address only after the status stage', () => {
    const d = new TestDevice();
    expect(d.setup(new Uint8Array([0x00, 5, 23, 0, 0, 0, 0, 0]))).toBe(8);
    expect(d.address).toBe(0);
    expect(d.in(0)).toEqual(new Uint8Array(0));
    expect(d.address).toBe(23);
    expect(control(d, [0x00, 5, 200, 0, 0, 0, 0, 0]).stall).toBe(true);
    expect(d.address).toBe(23);
    // A SETUP that interrupts a SET_ADDRESS before its status stage cancels it.
    d.setup(new Uint8Array([0x00, 5, 40, 0, 0, 0, 0, 0]));
    control(d, [0x80, 8, 0, 0, 0, 0, 1, 0]);
    expect(d.address).toBe(23);
  });

  it('configures, and serves interrupt endpoints only when configured', () => {
    const d = new TestDevice();
    expect(d.in(1)).toBe(USB_STALL);
    expect(control(d, [0x80, 8, 0, 0, 0, 0, 1, 0]).data).toEqual([0]);
    expect(control(d, [0x00, 9, 2, 0, 0, 0, 0, 0]).stall).toBe(true);
    expect(control(d, [0x00, 9, 1, 0, 0, 0, 0, 0]).stall).toBe(false);
    expect(control(d, [0x80, 8, 0, 0, 0, 0, 1, 0]).data).toEqual([1]);
    expect(d.in(1)).toBe(USB_NAK);
    expect(d.in(1)).toEqual(new Uint8Array([2]));
    expect(d.in(2)).toBe(USB_STALL);
    expect(d.out(1, new Uint8Array(1))).toBe(USB_STALL);
    expect(control(d, [0x81, 10, 0, 0, 0, 0, 1, 0]).data).toEqual([0]);
    expect(control(d, [0x01, 11, 0, 0, 0, 0, 0, 0]).stall).toBe(false);
    expect(control(d, [0x01, 11, 1, 0, 0, 0, 0, 0]).stall).toBe(true);
    expect(control(d, [0x01, 11, 0, 0, 1, 0, 0, 0]).stall).toBe(true);
  });

  it('halts endpoints with SET_FEATURE and reports it in GET_STATUS', () => {
    const d = new TestDevice();
    control(d, [0x00, 9, 1, 0, 0, 0, 0, 0]);
    expect(control(d, [0x02, 3, 0, 0, 0x81, 0, 0, 0]).stall).toBe(false);
    expect(d.in(1)).toBe(USB_STALL);
    expect(control(d, [0x82, 0, 0, 0, 0x81, 0, 2, 0]).data).toEqual([1, 0]);
    expect(control(d, [0x02, 1, 0, 0, 0x81, 0, 0, 0]).stall).toBe(false);
    expect(control(d, [0x82, 0, 0, 0, 0x81, 0, 2, 0]).data).toEqual([0, 0]);
    expect(d.in(1)).not.toBe(USB_STALL);
    expect(control(d, [0x02, 3, 0, 0, 0x82, 0, 0, 0]).stall).toBe(true); // no such endpoint
    expect(control(d, [0x82, 0, 0, 0, 0x00, 0, 2, 0]).data).toEqual([0, 0]);
  });

  it('arms remote wakeup only where the configuration offers it', () => {
    const d = new TestDevice();
    let wakeups = 0;
    d.onRemoteWakeup = () => wakeups++;
    expect(control(d, [0x80, 0, 0, 0, 0, 0, 2, 0]).data).toEqual([0, 0]);
    expect(control(d, [0x00, 3, 1, 0, 0, 0, 0, 0]).stall).toBe(false);
    expect(control(d, [0x80, 0, 0, 0, 0, 0, 2, 0]).data).toEqual([2, 0]);
    expect(d.remoteWakeup).toBe(true);
    const plain = new TestDevice(0xc0); // self powered, no wakeup
    expect(control(plain, [0x80, 0, 0, 0, 0, 0, 2, 0]).data).toEqual([1, 0]);
    expect(control(plain, [0x00, 3, 1, 0, 0, 0, 0, 0]).stall).toBe(true);
    expect(wakeups).toBe(0);
  });

  it('runs OUT requests with their data at the status stage', () => {
    const d = new TestDevice();
    const r = control(d, [0x40, 0x42, 0, 0, 0, 0, 10, 0], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(r.stall).toBe(false);
    expect(r.zeroLength).toBe(true);
    expect(d.received).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(control(d, [0x40, 0x43, 0, 0, 0, 0, 2, 0], [1, 2]).stall).toBe(true);
  });

  it('keeps a stalled control pipe stalled until the next SETUP', () => {
    const d = new TestDevice();
    expect(d.setup(new Uint8Array([0x80, 99, 0, 0, 0, 0, 4, 0]))).toBe(8);
    expect(d.in(0)).toBe(USB_STALL);
    expect(d.in(0)).toBe(USB_STALL);
    expect(d.out(0, new Uint8Array(0))).toBe(USB_STALL);
    expect(control(d, [0x80, 8, 0, 0, 0, 0, 1, 0]).stall).toBe(false);
    // Standard requests in the wrong direction stall too.
    expect(control(d, [0x00, 8, 0, 0, 0, 0, 0, 0]).stall).toBe(true);
    expect(control(d, [0x00, 0, 0, 0, 0, 0, 0, 0]).stall).toBe(true);
    expect(control(d, [0x80, 5, 1, 0, 0, 0, 0, 0]).stall).toBe(true);
  });

  it('returns to the Default state on bus reset, and saves its state as plain data', () => {
    const d = new TestDevice();
    control(d, [0x00, 5, 3, 0, 0, 0, 0, 0]);
    control(d, [0x00, 9, 1, 0, 0, 0, 0, 0]);
    control(d, [0x00, 3, 1, 0, 0, 0, 0, 0]);
    d.setup(new Uint8Array([0x80, 6, 0, 1, 0, 0, 18, 0]));
    d.in(0);
    const saved = structuredClone(d.save()) as DeviceState;
    const copy = new TestDevice();
    copy.load(saved);
    expect(copy.address).toBe(3);
    expect(copy.configuration).toBe(1);
    expect(copy.remoteWakeup).toBe(true);
    expect(copy.in(0)).toEqual(new Uint8Array([0x34, 0x12, 0x78, 0x56, 0, 0, 1, 2])); // mid-transfer
    d.busReset();
    expect([d.address, d.configuration, d.remoteWakeup]).toEqual([0, 0, false]);
    expect(d.in(0)).toBe(USB_STALL);
  });
});
