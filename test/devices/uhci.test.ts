import { describe, expect, it } from 'vitest';
import type { DmaMemory } from '../../src/bus/dma-memory.ts';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { MmioMap } from '../../src/bus/mmio-map.ts';
import { PciBus } from '../../src/bus/pci-bus.ts';
import { StateVersionError } from '../../src/bus/device.ts';
import { Uhci } from '../../src/devices/uhci.ts';
import { UsbHidTablet } from '../../src/devices/usb-hid-tablet.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import { GuestMemory } from '../../src/machine/guest-memory.ts';

// Register offsets from BAR4.
const USBCMD = 0x00;
const USBSTS = 0x02;
const USBINTR = 0x04;
const FRNUM = 0x06;
const FRBASEADD = 0x08;
const SOFMOD = 0x0c;
const PORTSC1 = 0x10;
const PORTSC2 = 0x12;
// Bits.
const RS = 0x01;
const HCRESET = 0x02;
const GRESET = 0x04;
const EGSM = 0x08;
const FGR = 0x10;
const USBINT = 0x01;
const USBERR = 0x02;
const STS_RD = 0x04;
const HCPE = 0x10;
const HCH = 0x20;
const CCS = 0x0001;
const CSC = 0x0002;
const PE = 0x0004;
const PEC = 0x0008;
const LINE_DPLUS = 0x0010;
const PORT_RD = 0x0040;
const PR = 0x0200;
const SUSP = 0x1000;
const TERMINATE = 1;
const QH = 2;
const DEPTH = 4;
const ACTIVE = 1 << 23;
const IOC = 1 << 24;
const SPD = 1 << 29;
const STALLED = 1 << 22;
const BABBLE = 1 << 20;
const NAK = 1 << 19;
const CRC_TIMEOUT = 1 << 18;
const CERR3 = 3 << 27;
const SETUP = 0x2d;
const IN = 0x69;
const OUT = 0xe1;
const MS = 1_000_000;

const BASE = 0xc000;
const FRAME_LIST = 0x10000;

/** Guest RAM that counts bus-master reads, to check the work per frame stays bounded. */
class CountingMemory implements DmaMemory {
  reads = 0;
  readonly ram: GuestMemory;
  constructor(readonly bytes: Uint8Array) {
    this.ram = new GuestMemory(bytes);
  }
  read(a: number, d: Uint8Array): void {
    this.reads++;
    this.ram.read(a, d);
  }
  write(a: number, s: Uint8Array): void {
    this.ram.write(a, s);
  }
  readU32(a: number): number {
    this.reads++;
    return this.ram.readU32(a);
  }
  writeU32(a: number, v: number): void {
    this.ram.writeU32(a, v);
  }
}

function setup(options: { tablet?: boolean } = {}) {
  const io = new IoBus();
  const clock = new EventClock();
  const memory = new CountingMemory(new Uint8Array(1 << 20));
  const irq = new IrqLine('pirqd');
  const pci = new PciBus({ io, mmio: new MmioMap(), routeInterrupt: () => irq.source() });
  const uhci = new Uhci({ memory, clock });
  pci.addFunction(1, 2, uhci);
  pci.configWrite(0, 1, 2, 0x20, 4, BASE);
  pci.configWrite(0, 1, 2, 0x04, 2, 0x0005); // I/O decode, bus master
  const tablet = new UsbHidTablet({ clock, serial: '42' });
  if (options.tablet !== false) uhci.attach(0, tablet);
  uhci.reset();
  const r16 = (o: number) => io.read(BASE + o, 2);
  const w16 = (o: number, v: number) => io.write(BASE + o, 2, v);
  const ram = memory.ram;
  const frames = (n: number) => clock.advanceBy(n * MS);

  // Schedule building (UHCI design guide, section 3).
  const token = (pid: number, address: number, endpoint: number, length: number, toggle = 0) =>
    (pid | (address << 8) | (endpoint << 15) | (toggle << 19) | (((length - 1) & 0x7ff) << 21)) >>> 0;
  const td = (at: number, link: number, ctrl: number, tok: number, buffer: number) => {
    ram.writeU32(at, link);
    ram.writeU32(at + 4, ctrl >>> 0);
    ram.writeU32(at + 8, tok);
    ram.writeU32(at + 12, buffer);
  };
  const qh = (at: number, head: number, element: number) => {
    ram.writeU32(at, head);
    ram.writeU32(at + 4, element);
  };
  const ctrlOf = (at: number) => ram.readU32(at + 4);
  const everyFrame = (link: number) => {
    for (let i = 0; i < 1024; i++) ram.writeU32(FRAME_LIST + 4 * i, link);
  };
  const start = (interrupts = 0) => {
    io.write(BASE + FRBASEADD, 4, FRAME_LIST);
    w16(USBINTR, interrupts);
    w16(USBCMD, RS | 0x40 | 0x80);
  };
  /** Port reset and enable the way Linux's uhci-hcd does it (uhci-hub.c SET/CLR_RH_PORTSTAT). */
  const RWC = 0x0800 | PEC | CSC;
  const WZ = 0xe000 | 0x0400;
  const setPort = (o: number, bits: number) => w16(o, (r16(o) | bits) & ~(RWC | WZ));
  const clearPort = (o: number, bits: number) => w16(o, ((r16(o) & ~(RWC | WZ)) & ~bits) | (RWC & bits));
  const resetPort = (o: number) => {
    setPort(o, PR);
    frames(50);
    clearPort(o, PR);
    clearPort(o, CSC | PEC);
    setPort(o, PE);
  };

  const CONTROL_QH = 0x20000;
  const TDS = 0x20100;
  const BUFFERS = 0x30000;
  /**
   * One control transfer through a queue head in every frame, as a driver builds it: SETUP,
   * 8-byte data TDs with short packet detect, a status TD with IOC, all depth first. A short
   * packet stops the queue; like uhci-hcd, the helper then moves the queue to the status TD.
   */
  const control = (address: number, request: number[], inLength = 0, outData: number[] = [], packetSize = 8) => {
    const out = outData.length > 0;
    const dataLength = out ? outData.length : inLength;
    const packets = Math.ceil(dataLength / packetSize);
    const tds: number[] = [];
    let at = TDS;
    ram.write(BUFFERS, new Uint8Array(request));
    const statusTd = TDS + 32 * (packets + 1);
    td(at, (at + 32) | DEPTH, ACTIVE | CERR3, token(SETUP, address, 0, 8), BUFFERS);
    tds.push(at);
    for (let i = 0; i < packets; i++) {
      at += 32;
      const len = Math.min(packetSize, dataLength - packetSize * i);
      const buffer = BUFFERS + 0x100 + packetSize * i;
      if (out) ram.write(buffer, new Uint8Array(outData.slice(packetSize * i, packetSize * i + len)));
      td(at, (at + 32) | DEPTH, ACTIVE | CERR3 | (out ? 0 : SPD), token(out ? OUT : IN, address, 0, out ? len : packetSize, (i + 1) & 1), buffer);
      tds.push(at);
    }
    td(statusTd, TERMINATE, ACTIVE | CERR3 | IOC, token(out || dataLength === 0 ? IN : OUT, address, 0, 0, 1), 0);
    tds.push(statusTd);
    qh(CONTROL_QH, TERMINATE, TDS);
    everyFrame(CONTROL_QH | QH);
    for (let f = 0; f < 20; f++) {
      frames(1);
      const element = ram.readU32(CONTROL_QH + 4);
      if (element & TERMINATE) break;
      const current = element & ~0xf;
      const c = ctrlOf(current);
      if (c & STALLED) break;
      if (!(c & ACTIVE) && current !== statusTd) ram.writeU32(CONTROL_QH + 4, statusTd);
    }
    everyFrame(TERMINATE);
    const data: number[] = [];
    for (let i = 0; i < packets && !out; i++) {
      const c = ctrlOf(tds[1 + i]);
      if (c & ACTIVE) break;
      const n = ((c & 0x7ff) + 1) & 0x7ff;
      for (let j = 0; j < n; j++) data.push(memory.bytes[BUFFERS + 0x100 + packetSize * i + j]);
      if (n < packetSize) break;
    }
    const stalled = tds.some((t) => ctrlOf(t) & STALLED);
    return { data, stalled, tds, statusDone: !(ctrlOf(statusTd) & ACTIVE) };
  };

  return { io, clock, memory, ram, irq, pci, uhci, tablet, r16, w16, frames, token, td, qh, ctrlOf, everyFrame, start, setPort, clearPort, resetPort, control };
}

/** Enumerate the tablet at address 1 and configure it, as a USB stack does. */
function enumerate(t: ReturnType<typeof setup>) {
  t.start();
  t.resetPort(PORTSC1);
  // Linux's first read assumes a 64-byte endpoint 0.
  const first = t.control(0, [0x80, 6, 0, 1, 0, 0, 64, 0], 64, [], 64);
  const address = t.control(0, [0x00, 5, 1, 0, 0, 0, 0, 0]);
  const device = t.control(1, [0x80, 6, 0, 1, 0, 0, 18, 0], 18);
  const configHead = t.control(1, [0x80, 6, 0, 2, 0, 0, 9, 0], 9);
  const config = t.control(1, [0x80, 6, 0, 2, 0, 0, configHead.data[2], 0], configHead.data[2]);
  const setConfig = t.control(1, [0x00, 9, 1, 0, 0, 0, 0, 0]);
  const idle = t.control(1, [0x21, 0x0a, 0, 0, 0, 0, 0, 0]);
  const report = t.control(1, [0x81, 6, 0, 0x22, 0, 0, 74, 0], 74);
  t.frames(1); // the end of the last transfer's frame
  return { first, address, device, config, setConfig, idle, report };
}

describe('Uhci', () => {
  it('is the PIIX3 USB function: 8086:7020, class 0C0300h, BAR4 of 32 ports, pin D, SBRN and LEGSUP', () => {
    const { pci } = setup();
    expect(pci.configRead(0, 1, 2, 0, 4)).toBe(0x70208086);
    expect(pci.configRead(0, 1, 2, 8, 4)).toBe(0x0c030001);
    expect(pci.configRead(0, 1, 2, 0x3d, 1)).toBe(4);
    pci.configWrite(0, 1, 2, 0x20, 4, 0xffffffff);
    expect(pci.configRead(0, 1, 2, 0x20, 4)).toBe(0xffffffe1);
    expect(pci.configRead(0, 1, 2, 0x60, 1)).toBe(0x10);
    pci.configWrite(0, 1, 2, 0x60, 1, 0x20); // read-only
    expect(pci.configRead(0, 1, 2, 0x60, 1)).toBe(0x10);
    expect(pci.configRead(0, 1, 2, 0xc0, 2)).toBe(0x2000);
    // Linux's reset writes the RWC bits; its configure writes the PIRQ enable.
    pci.configWrite(0, 1, 2, 0xc0, 2, 0x8f00);
    expect(pci.configRead(0, 1, 2, 0xc0, 2)).toBe(0x0000);
    pci.configWrite(0, 1, 2, 0xc0, 2, 0xffff);
    expect(pci.configRead(0, 1, 2, 0xc0, 2)).toBe(0x20bf);
  });

  it('comes out of reset halted, with a connected device reported on port 1 and none on port 2', () => {
    const { r16, io } = setup();
    expect(r16(USBCMD)).toBe(0);
    expect(r16(USBSTS)).toBe(HCH);
    expect(r16(USBINTR)).toBe(0);
    expect(r16(FRNUM)).toBe(0);
    expect(io.read(BASE + SOFMOD, 1)).toBe(0x40);
    expect(r16(PORTSC1)).toBe(0x80 | LINE_DPLUS | CSC | CCS);
    expect(r16(PORTSC2)).toBe(0x80);
    // uhci-hcd counts ports until bit 7 reads clear (or the register reads all ones).
    let ports = 0;
    while (ports < 8) {
      const v = r16(PORTSC1 + 2 * ports);
      if (!(v & 0x80) || v === 0xffff) break;
      ports++;
    }
    expect(ports).toBe(2);
  });

  it('masks FRBASEADD to 4 KiB, takes FRNUM only while halted, SOFMOD by byte', () => {
    const { io, r16, w16 } = setup();
    io.write(BASE + FRBASEADD, 4, 0x12345fff);
    expect(io.read(BASE + FRBASEADD, 4)).toBe(0x12345000);
    io.write(BASE + FRBASEADD + 2, 2, 0xabcd); // upper half only
    expect(io.read(BASE + FRBASEADD, 4)).toBe(0xabcd5000);
    w16(FRNUM, 0xffff);
    expect(r16(FRNUM)).toBe(0x7ff);
    w16(USBCMD, RS);
    w16(FRNUM, 0x123);
    expect(r16(FRNUM)).toBe(0x7ff);
    io.write(BASE + SOFMOD, 1, 0xff);
    expect(io.read(BASE + SOFMOD, 1)).toBe(0x7f);
    w16(USBINTR, 0xffff);
    expect(r16(USBINTR)).toBe(0xf);
  });

  it('counts frames every millisecond while running and stops with HCHalted', () => {
    const { r16, w16, frames, io } = setup();
    io.write(BASE + FRBASEADD, 4, FRAME_LIST);
    w16(FRNUM, 0x7fe);
    w16(USBCMD, RS);
    expect(r16(USBSTS) & HCH).toBe(0);
    frames(3);
    // Frames 7FEh, 7FFh, 0 and 1 have begun; the counter wraps at 11 bits.
    expect(r16(FRNUM)).toBe(0x001);
    w16(USBCMD, 0);
    expect(r16(USBSTS) & HCH).toBe(HCH);
    const stopped = r16(FRNUM);
    frames(10);
    expect(r16(FRNUM)).toBe(stopped);
  });

  it('resets and enables a port in the sequence uhci-hcd uses', () => {
    const t = setup();
    const { r16, w16, setPort, clearPort, tablet } = t;
    tablet.address = 9; // as if left over from an earlier boot
    setPort(PORTSC1, PR);
    expect(r16(PORTSC1) & (PR | PE | LINE_DPLUS)).toBe(PR); // SE0 on the line while in reset
    expect(tablet.address).toBe(0);
    // Enabling while reset is held has no effect.
    setPort(PORTSC1, PE);
    expect(r16(PORTSC1) & PE).toBe(0);
    clearPort(PORTSC1, PR);
    expect(r16(PORTSC1) & (CSC | CCS)).toBe(CSC | CCS);
    clearPort(PORTSC1, CSC | PEC);
    setPort(PORTSC1, PE);
    expect(r16(PORTSC1)).toBe(0x80 | LINE_DPLUS | PE | CCS);
    // A second reset of an enabled port reports an enable change.
    setPort(PORTSC1, PR);
    expect(r16(PORTSC1) & (PE | PEC)).toBe(PEC);
    // Writing zero to the change bits keeps them; writing one clears them.
    w16(PORTSC1, PR);
    expect(r16(PORTSC1) & PEC).toBe(PEC);
    w16(PORTSC1, PEC);
    expect(r16(PORTSC1) & (PEC | PR)).toBe(0);
    // An empty port cannot be enabled.
    setPort(PORTSC2, PE);
    expect(r16(PORTSC2)).toBe(0x80);
  });

  it('enumerates the tablet through a frame list: descriptors, SET_ADDRESS, SET_CONFIGURATION', () => {
    const t = setup();
    const e = enumerate(t);
    // The first 64-byte read gets one 8-byte packet: a short packet, as with real devices.
    expect(e.first.data).toEqual([18, 1, 0x00, 0x01, 0, 0, 0, 8]);
    expect(e.first.stalled).toBe(false);
    expect(e.address.statusDone).toBe(true);
    expect(t.tablet.address).toBe(1);
    expect(e.device.data).toEqual([18, 1, 0x00, 0x01, 0, 0, 0, 8, 0x27, 0x06, 0x01, 0x00, 0, 0, 1, 2, 3, 1]);
    expect(e.config.data.length).toBe(34);
    expect(e.config.data.slice(0, 9)).toEqual([9, 2, 34, 0, 1, 1, 4, 0xa0, 50]);
    expect(e.config.data.slice(9, 18)).toEqual([9, 4, 0, 0, 1, 3, 0, 2, 0]);
    expect(e.config.data.slice(18, 27)).toEqual([9, 0x21, 0x11, 0x01, 0, 1, 0x22, 74, 0]);
    expect(e.config.data.slice(27)).toEqual([7, 5, 0x81, 3, 8, 0, 10]);
    expect(e.setConfig.statusDone).toBe(true);
    expect(t.tablet.configuration).toBe(1);
    expect(e.idle.stalled).toBe(false);
    expect(e.report.data.length).toBe(74);
    expect(e.report.data.slice(0, 4)).toEqual([0x05, 0x01, 0x09, 0x01]);
  });

  it('records actual lengths and raises IOC at the end of the frame', () => {
    const t = setup();
    enumerate(t);
    t.w16(USBSTS, 0x3f);
    t.w16(USBINTR, 0x4); // IOC only
    const r = t.control(1, [0x80, 6, 0, 1, 0, 0, 18, 0], 18);
    expect(r.tds.map((a) => t.ctrlOf(a) & 0x7ff)).toEqual([7, 7, 7, 1, 0x7ff]);
    // The 2-byte packet was short (USBINT, but short-packet interrupts are not enabled); the
    // status TD's IOC waits for the end of its frame.
    expect(t.r16(USBSTS) & USBINT).toBe(USBINT);
    expect(t.irq.level).toBe(false);
    t.frames(1);
    expect(t.irq.level).toBe(true);
    t.w16(USBSTS, USBINT);
    expect(t.irq.level).toBe(false);
  });

  it('polls the interrupt endpoint: NAK while idle, then the exact tablet report', () => {
    const t = setup();
    enumerate(t);
    t.w16(USBSTS, 0x3f);
    t.w16(USBINTR, 0x4);
    const INT_QH = 0x21000;
    const INT_TD = 0x21100;
    const BUF = 0x31000;
    t.td(INT_TD, TERMINATE, ACTIVE | CERR3 | IOC | SPD, t.token(IN, 1, 1, 8), BUF);
    t.qh(INT_QH, TERMINATE, INT_TD);
    t.everyFrame(INT_QH | QH);
    t.frames(3);
    expect(t.ctrlOf(INT_TD) & (ACTIVE | NAK)).toBe(ACTIVE | NAK);
    expect(t.r16(USBSTS) & USBINT).toBe(0);
    t.tablet.pointer(0.5, 0.25, 1, 0);
    t.frames(1);
    const c = t.ctrlOf(INT_TD);
    expect(c & (ACTIVE | NAK)).toBe(0);
    expect(c & 0x7ff).toBe(5); // 6 bytes
    // x = round(0.5 * 7FFFh) = 4000h, y = round(0.25 * 7FFFh) = 2000h.
    expect([...t.memory.bytes.subarray(BUF, BUF + 6)]).toEqual([0x01, 0x00, 0x40, 0x00, 0x20, 0x00]);
    // The 6-byte report is short of the 8-byte buffer: SPD keeps the queue on this TD.
    expect(t.ram.readU32(INT_QH + 4)).toBe(INT_TD);
    t.frames(1);
    expect(t.r16(USBSTS) & USBINT).toBe(USBINT);
    expect(t.irq.level).toBe(true); // IOC enabled
    // The second report: moved to the bottom-right corner, right button, wheel down two.
    t.w16(USBSTS, USBINT);
    t.tablet.pointer(1, 1, 2, -2);
    t.td(INT_TD, TERMINATE, ACTIVE | CERR3 | IOC, t.token(IN, 1, 1, 8), BUF);
    t.qh(INT_QH, TERMINATE, INT_TD);
    t.frames(2);
    expect([...t.memory.bytes.subarray(BUF, BUF + 6)]).toEqual([0x02, 0xff, 0x7f, 0xff, 0x7f, 0xfe]);
    // Without SPD a short packet completes the TD and advances the queue.
    expect(t.ram.readU32(INT_QH + 4)).toBe(TERMINATE);
  });

  it('serves a ring of interrupt TDs one per frame, as SeaBIOS polls its pipes', () => {
    const t = setup();
    t.start();
    // SeaBIOS's port handling: write PR, then 0, then PE, with plain writes.
    t.w16(PORTSC1, PR);
    t.frames(50);
    t.w16(PORTSC1, 0);
    expect(t.r16(PORTSC1) & CCS).toBe(CCS);
    t.w16(PORTSC1, PE);
    expect(t.r16(PORTSC1) & PE).toBe(PE);
    t.control(0, [0x00, 5, 3, 0, 0, 0, 0, 0]);
    t.control(3, [0x00, 9, 1, 0, 0, 0, 0, 0]);
    // Two IN TDs linked into a ring (no QH bit, breadth first) under one queue head.
    t.td(0x23000, 0x23020, ACTIVE | CERR3, t.token(IN, 3, 1, 8), 0x33000);
    t.td(0x23020, 0x23000, ACTIVE | CERR3, t.token(IN, 3, 1, 8, 1), 0x33008);
    t.qh(0x21000, TERMINATE, 0x23000);
    t.everyFrame(0x21000 | QH);
    t.tablet.pointer(0, 0, 1);
    t.tablet.pointer(0, 0, 0);
    t.frames(1);
    expect(t.ram.readU32(0x21004)).toBe(0x23020); // one TD per frame
    expect(t.memory.bytes[0x33000]).toBe(1);
    t.frames(1);
    expect(t.ram.readU32(0x21004)).toBe(0x23000);
    expect(t.memory.bytes[0x33008]).toBe(0);
    expect(t.ctrlOf(0x23000) & ACTIVE).toBe(0);
    expect(t.ctrlOf(0x23020) & ACTIVE).toBe(0);
  });

  it('gates the interrupt with the short-packet enable and LEGSUP USBPIRQDEN', () => {
    const t = setup();
    enumerate(t);
    t.w16(USBSTS, 0x3f);
    t.w16(USBINTR, 0x8); // short packet only
    t.control(1, [0x80, 6, 0, 1, 0, 0, 64, 0], 64); // short packet, and IOC on the status TD
    expect(t.r16(USBSTS) & USBINT).toBe(USBINT);
    expect(t.irq.level).toBe(true);
    t.pci.configWrite(0, 1, 2, 0xc0, 2, 0x0000);
    expect(t.irq.level).toBe(false);
    t.pci.configWrite(0, 1, 2, 0xc0, 2, 0x2000);
    expect(t.irq.level).toBe(true);
    t.w16(USBSTS, USBINT);
    // A transfer that completes without a short packet: only IOC, which is not enabled.
    t.control(1, [0x80, 6, 0, 1, 0, 0, 8, 0], 8);
    expect(t.r16(USBSTS) & USBINT).toBe(USBINT);
    expect(t.irq.level).toBe(false);
  });

  it('stalls an unsupported request with USBERR and the Stalled bit', () => {
    const t = setup();
    enumerate(t);
    t.w16(USBSTS, 0x3f);
    t.w16(USBINTR, 0x1);
    // Device qualifier: a full-speed-only device stalls it.
    const r = t.control(1, [0x80, 6, 0, 6, 0, 0, 10, 0], 10);
    expect(r.stalled).toBe(true);
    const dataTd = t.ctrlOf(r.tds[1]);
    expect(dataTd & (STALLED | ACTIVE)).toBe(STALLED);
    expect(t.r16(USBSTS) & USBERR).toBe(USBERR);
    expect(t.irq.level).toBe(true);
    // The next SETUP clears the stall.
    const ok = t.control(1, [0x80, 8, 0, 0, 0, 0, 1, 0], 1);
    expect(ok.stalled).toBe(false);
    expect(ok.data).toEqual([1]);
  });

  it('times out TDs for absent devices, counting down the error counter', () => {
    const t = setup();
    t.start();
    t.w16(USBINTR, 0x1);
    t.td(0x22000, TERMINATE, ACTIVE | CERR3, t.token(SETUP, 5, 0, 8), 0x32000);
    t.qh(0x21000, TERMINATE, 0x22000);
    t.everyFrame(0x21000 | QH);
    t.frames(0); // the first frame
    expect(t.ctrlOf(0x22000) >>> 27 & 3).toBe(2);
    expect(t.ctrlOf(0x22000) & (ACTIVE | CRC_TIMEOUT)).toBe(ACTIVE | CRC_TIMEOUT);
    expect(t.irq.level).toBe(false);
    t.frames(2);
    expect(t.ctrlOf(0x22000) & (ACTIVE | CRC_TIMEOUT | STALLED)).toBe(CRC_TIMEOUT | STALLED);
    expect(t.r16(USBSTS) & USBERR).toBe(USBERR);
    expect(t.irq.level).toBe(true);
    // With an error count of 0 the controller retries for ever.
    t.w16(USBSTS, 0x3f);
    t.td(0x22000, TERMINATE, ACTIVE, t.token(IN, 5, 0, 8), 0x32000);
    t.qh(0x21000, TERMINATE, 0x22000);
    t.frames(10);
    expect(t.ctrlOf(0x22000) & (ACTIVE | CRC_TIMEOUT)).toBe(ACTIVE | CRC_TIMEOUT);
    expect(t.r16(USBSTS) & USBERR).toBe(0);
  });

  it('does not reach devices on disabled or suspended ports', () => {
    const t = setup();
    t.start();
    // Port 1 never enabled: a SETUP to address 0 times out.
    t.td(0x22000, TERMINATE, ACTIVE, t.token(SETUP, 0, 0, 8), 0x32000);
    t.ram.write(0x32000, new Uint8Array([0x80, 6, 0, 1, 0, 0, 8, 0]));
    t.everyFrame(0x22000);
    t.frames(1);
    expect(t.ctrlOf(0x22000) & (ACTIVE | CRC_TIMEOUT)).toBe(ACTIVE | CRC_TIMEOUT);
    t.resetPort(PORTSC1);
    t.setPort(PORTSC1, SUSP);
    t.td(0x22000, TERMINATE, ACTIVE, t.token(SETUP, 0, 0, 8), 0x32000);
    t.frames(1);
    expect(t.ctrlOf(0x22000) & (ACTIVE | CRC_TIMEOUT)).toBe(ACTIVE | CRC_TIMEOUT);
    t.clearPort(PORTSC1, SUSP);
    t.td(0x22000, TERMINATE, ACTIVE, t.token(SETUP, 0, 0, 8), 0x32000);
    t.frames(1);
    expect(t.ctrlOf(0x22000) & (ACTIVE | CRC_TIMEOUT)).toBe(0);
  });

  it('flags babble when the device sends more than the TD can hold', () => {
    const t = setup();
    enumerate(t);
    t.w16(USBSTS, 0x3f);
    t.tablet.pointer(0.1, 0.2, 0);
    t.td(0x22000, TERMINATE, ACTIVE | CERR3, t.token(IN, 1, 1, 4), 0x32000);
    t.everyFrame(0x22000);
    t.frames(1);
    expect(t.ctrlOf(0x22000) & (ACTIVE | BABBLE | STALLED)).toBe(BABBLE | STALLED);
    expect(t.r16(USBSTS) & USBERR).toBe(USBERR);
    expect(t.memory.bytes[0x32004]).toBe(0); // nothing past the buffer
  });

  it('walks depth first within a queue, or one TD per queue per frame breadth first', () => {
    const t = setup();
    enumerate(t);
    const walk = (flag: number) => {
      t.ram.write(0x32000, new Uint8Array([0x80, 6, 0, 1, 0, 0, 18, 0]));
      t.td(0x22000, 0x22020 | flag, ACTIVE, t.token(SETUP, 1, 0, 8), 0x32000);
      t.td(0x22020, 0x22040 | flag, ACTIVE, t.token(IN, 1, 0, 8, 1), 0x32100);
      t.td(0x22040, TERMINATE, ACTIVE, t.token(IN, 1, 0, 8, 0), 0x32108);
      t.qh(0x21000, TERMINATE, 0x22000);
      t.everyFrame(0x21000 | QH);
      t.frames(1);
      return t.ram.readU32(0x21004);
    };
    t.frames(1);
    expect(walk(DEPTH)).toBe(TERMINATE);
    expect([...t.memory.bytes.subarray(0x32100, 0x32104)]).toEqual([18, 1, 0, 1]);
    t.control(1, [0x80, 8, 0, 0, 0, 0, 1, 0], 1); // a complete transfer resets the control pipe
    expect(walk(0)).toBe(0x22020);
  });

  it('halts with HC Process Error on a TD with an invalid PID or length', () => {
    const t = setup();
    t.start();
    t.td(0x22000, TERMINATE, ACTIVE, (0x55 | (7 << 21)) >>> 0, 0);
    t.everyFrame(0x22000);
    t.frames(1);
    expect(t.r16(USBSTS) & (HCPE | HCH)).toBe(HCPE | HCH);
    expect(t.r16(USBCMD) & RS).toBe(0);
    expect(t.irq.level).toBe(true); // process errors interrupt whatever USBINTR says
    t.w16(USBSTS, 0x3f);
    expect(t.irq.level).toBe(false);
    t.td(0x22000, TERMINATE, ACTIVE, t.token(IN, 1, 1, 0x600), 0);
    t.w16(USBCMD, RS);
    t.frames(1);
    expect(t.r16(USBSTS) & HCPE).toBe(HCPE);
  });

  it('raises IOC for an inactive TD, as the terminating TD of uhci-hcd needs', () => {
    const t = setup();
    t.start(0x4);
    t.td(0x22000, TERMINATE, IOC, t.token(IN, 0, 0, 0), 0);
    t.qh(0x21000, TERMINATE, 0x22000);
    t.everyFrame(0x21000 | QH);
    t.frames(1);
    expect(t.r16(USBSTS) & USBINT).toBe(USBINT);
    expect(t.irq.level).toBe(true);
  });

  it('bounds the work of a frame whatever the guest links together', () => {
    const t = setup();
    enumerate(t);
    const perFrame = (setupSchedule: () => void) => {
      setupSchedule();
      t.frames(1);
      const before = t.memory.reads;
      t.frames(10);
      return (t.memory.reads - before) / 10;
    };
    // A queue head linked to itself, with an element that NAKs.
    const selfLoop = perFrame(() => {
      t.td(0x22000, TERMINATE, ACTIVE, t.token(IN, 1, 1, 8), 0x32000);
      t.qh(0x21000, 0x21000 | QH, 0x22000);
      t.everyFrame(0x21000 | QH);
    });
    expect(selfLoop).toBeLessThan(10);
    // Two queue heads pointing at each other, and a TD linked to itself.
    const pair = perFrame(() => {
      t.qh(0x21000, 0x21100 | QH, TERMINATE);
      t.qh(0x21100, 0x21000 | QH, TERMINATE);
      t.everyFrame(0x21000 | QH);
    });
    expect(pair).toBeLessThan(10);
    const tdLoop = perFrame(() => {
      t.td(0x22000, 0x22000, 0, 0, 0);
      t.everyFrame(0x22000);
    });
    expect(tdLoop).toBeLessThan(10);
    // A long chain of distinct inactive TDs is cut at the element limit.
    const chain = perFrame(() => {
      for (let i = 0; i < 4000; i++) t.td(0x40000 + 16 * i, 0x40000 + 16 * (i + 1), 0, 0, 0);
      t.everyFrame(0x40000);
    });
    expect(chain).toBeLessThanOrEqual(1024 * 2 + 2);
    // A frame list outside RAM reads as all ones: terminated links, no work at all.
    t.io.write(BASE + 2 + 0, 2, 0x3f);
    t.w16(USBCMD, 0);
    t.io.write(BASE + FRBASEADD, 4, 0xfff00000);
    t.w16(USBCMD, RS);
    const before = t.memory.reads;
    t.frames(10);
    expect(t.memory.reads - before).toBe(11); // frames begin now and at each of the next 10 ms
    expect(t.r16(USBSTS) & (HCH | HCPE)).toBe(0);
  });

  it('does not run more than a frame of bus time per frame', () => {
    const t = setup();
    t.start();
    // 40 active 64-byte OUT TDs to an absent device, each in its own frame-list chain: every
    // attempt costs bus time, so not all of them can be tried in one frame.
    for (let i = 0; i < 40; i++) t.td(0x22000 + 32 * i, 0x22000 + 32 * (i + 1), ACTIVE, t.token(OUT, 7, 1, 64), 0x32000);
    t.td(0x22000 + 32 * 39, TERMINATE, ACTIVE, t.token(OUT, 7, 1, 64), 0x32000);
    t.everyFrame(0x22000);
    t.frames(0);
    let tried = 0;
    for (let i = 0; i < 40; i++) if (t.ctrlOf(0x22000 + 32 * i) & CRC_TIMEOUT) tried++;
    expect(tried).toBeGreaterThan(10);
    expect(tried).toBeLessThan(40);
  });

  it('signals remote wakeup from a suspended port during global suspend', () => {
    const t = setup();
    enumerate(t);
    t.control(1, [0x00, 3, 1, 0, 0, 0, 0, 0]); // SET_FEATURE(DEVICE_REMOTE_WAKEUP)
    expect(t.tablet.remoteWakeup).toBe(true);
    t.w16(USBSTS, 0x3f);
    t.w16(USBINTR, 0x2); // resume
    t.setPort(PORTSC1, SUSP);
    t.w16(USBCMD, 0);
    t.w16(USBCMD, EGSM);
    expect(t.irq.level).toBe(false);
    t.tablet.pointer(0.3, 0.3, 0);
    expect(t.r16(PORTSC1) & (PORT_RD | SUSP)).toBe(PORT_RD | SUSP);
    expect(t.r16(USBCMD) & FGR).toBe(FGR);
    expect(t.r16(USBSTS) & STS_RD).toBe(STS_RD);
    expect(t.irq.level).toBe(true);
  });

  it('detaches and attaches devices with connect and enable change bits', () => {
    const t = setup();
    t.start();
    t.resetPort(PORTSC1);
    t.uhci.attach(0, undefined);
    expect(t.r16(PORTSC1)).toBe(0x80 | CSC | PEC);
    t.w16(PORTSC1, CSC | PEC);
    t.uhci.attach(1, t.tablet);
    expect(t.r16(PORTSC2)).toBe(0x80 | LINE_DPLUS | CSC | CCS);
    expect(() => t.uhci.attach(2, t.tablet)).toThrow(/root port 2/);
  });

  it('resets the controller with HCRESET and the bus with GRESET', () => {
    const t = setup();
    enumerate(t);
    t.w16(USBINTR, 0xf);
    t.w16(USBCMD, RS | HCRESET);
    expect(t.r16(USBCMD)).toBe(0);
    expect(t.r16(USBSTS)).toBe(HCH);
    expect(t.r16(USBINTR)).toBe(0);
    expect(t.r16(PORTSC1)).toBe(0x80 | LINE_DPLUS | CSC | CCS);
    expect(t.tablet.address).toBe(1); // HCRESET does not signal on the bus
    t.w16(USBCMD, GRESET);
    expect(t.r16(USBCMD)).toBe(GRESET); // held until software clears it
    expect(t.tablet.address).toBe(0);
    expect(t.tablet.configuration).toBe(0);
    t.w16(USBCMD, 0);
    expect(t.r16(USBCMD)).toBe(0);
  });

  it('ignores nonsense register writes without throwing', () => {
    const t = setup();
    for (let o = 0; o < 32; o++) {
      t.io.write(BASE + o, 1, 0xff);
      t.io.write(BASE + (o & ~1), 2, 0xffff);
      t.io.write(BASE + (o & ~3), 4, 0xffffffff);
    }
    t.frames(5);
    expect(t.io.read(BASE + 0x14, 2)).toBe(0xff7f);
    expect(t.io.read(BASE + 0x0e, 2)).toBe(0xffff);
  });

  it('saves and restores a running controller', () => {
    const t = setup();
    enumerate(t);
    t.w16(USBINTR, 0x4);
    const state = t.uhci.saveState();
    const frame = t.r16(FRNUM);
    const u = setup();
    u.uhci.loadState(structuredClone(state));
    expect(u.r16(FRNUM)).toBe(frame);
    expect(u.r16(PORTSC1)).toBe(t.r16(PORTSC1));
    expect(u.r16(USBINTR)).toBe(0x4);
    u.clock.setTime(t.clock.now());
    u.frames(5);
    expect(u.r16(FRNUM)).toBe((frame + 5) & 0x7ff);
    expect(() => u.uhci.loadState({ version: 2 })).toThrow(StateVersionError);
  });
});
