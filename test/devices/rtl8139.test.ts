import { describe, expect, it } from 'vitest';
import { StateVersionError } from '../../src/bus/device.ts';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { MmioMap } from '../../src/bus/mmio-map.ts';
import { PciBus } from '../../src/bus/pci-bus.ts';
import {
  INT_LINK_CHANGE, INT_ROK, INT_RXOVW, INT_SYSTEM_ERROR, INT_TER, INT_TIMEOUT, INT_TOK, RCR_AAP, RCR_AB, RCR_AM, RCR_APM,
  RCR_WRAP, Rtl8139, RX_BAR, RX_MAR, RX_PAM, RX_ROK, TCR_HWVERID_RTL8139C, TSD_OWN, TSD_TABT, TSD_TOK,
} from '../../src/devices/rtl8139.ts';
import { EventClock } from '../../src/machine/event-clock.ts';
import { GuestMemory } from '../../src/machine/guest-memory.ts';
import { Gateway } from '../../src/net/gateway.ts';
import { buildArp, parseArp, ARP_REPLY, ARP_REQUEST } from '../../src/net/arp.ts';
import { BROADCAST_MAC, buildEthernet, crc32, ETHERTYPE_ARP, ETHERTYPE_IPV4, multicastHashIndex, parseEthernet } from '../../src/net/ethernet.ts';
import type { NetworkPort } from '../../src/net/network-port.ts';
import { VirtualSwitch } from '../../src/net/virtual-switch.ts';
import { buildIpv4, IP_PROTOCOL_UDP, parseIpv4, parseIpv4Address } from '../../src/net/ipv4.ts';
import { buildDhcp, DHCP_ACK, DHCP_DISCOVER, DHCP_OFFER, DHCP_REQUEST, OPTION_MESSAGE_TYPE, OPTION_REQUESTED_ADDRESS, parseDhcp } from '../../src/net/dhcp.ts';
import { buildUdp, parseUdp } from '../../src/net/udp.ts';

const MAC = new Uint8Array([0x00, 0x16, 0x3e, 0x7e, 0xf3, 0x15]);
const PEER_MAC = new Uint8Array([0x02, 0x00, 0x00, 0x00, 0x00, 0x99]);
const IO = 0xc000;
const MMIO = 0xfebf0000;
const RX_BUFFER = 0x10000;
const TX_BUFFER = 0x40000;
const RAM_BYTES = 1 << 20;

// Register offsets.
const IDR0 = 0x00, MAR0 = 0x08, TSD0 = 0x10, TSAD0 = 0x20, RBSTART = 0x30, CR = 0x37, CAPR = 0x38, CBR = 0x3a;
const IMR = 0x3c, ISR = 0x3e, TCR = 0x40, RCR = 0x44, TCTR = 0x48, MPC = 0x4c, CR9346 = 0x50, CONFIG1 = 0x52;
const TIMERINT = 0x54, MSR = 0x58, TSAD = 0x60, BMCR = 0x62, BMSR = 0x64, CPCMD = 0xe0, RDSAR = 0xe4, TPPOLL = 0xd9;

function setup(options: { port?: NetworkPort; noSwitch?: boolean } = {}) {
  const io = new IoBus();
  const mmio = new MmioMap();
  const clock = new EventClock();
  const irq = new IrqLine('pirqa');
  const pci = new PciBus({ io, mmio, routeInterrupt: () => irq.source() });
  const ram = new Uint8Array(RAM_BYTES);
  const memory = new GuestMemory(ram);
  const sw = new VirtualSwitch('xenbr0');
  const port = options.port ?? sw.connect('nic');
  const peer = sw.connect('peer');
  const wire: Uint8Array[] = [];
  peer.onReceive = (f) => wire.push(f.slice());
  const nic = new Rtl8139({ mac: MAC, memory, clock, port, ramBytes: RAM_BYTES });
  pci.addFunction(3, 0, nic);
  pci.configWrite(0, 3, 0, 0x10, 4, IO);
  pci.configWrite(0, 3, 0, 0x14, 4, MMIO);
  pci.configWrite(0, 3, 0, 0x04, 2, 0x0007);
  const r8 = (o: number) => io.read(IO + o, 1);
  const r16 = (o: number) => io.read(IO + o, 2);
  const r32 = (o: number) => io.read(IO + o, 4);
  const w8 = (o: number, v: number) => io.write(IO + o, 1, v);
  const w16 = (o: number, v: number) => io.write(IO + o, 2, v);
  const w32 = (o: number, v: number) => io.write(IO + o, 4, v);
  let nextDescriptor = 0;
  /** Queue a frame the way 8139too does: copy to the bounce buffer, TSAD, then TSD with the size. */
  const transmit = (frame: Uint8Array, n = nextDescriptor) => {
    nextDescriptor = (n + 1) & 3;
    const address = TX_BUFFER + n * 0x800;
    ram.set(frame, address);
    w32(TSAD0 + 4 * n, address);
    w32(TSD0 + 4 * n, frame.length);
    return n;
  };
  /** Start the receiver like 8139too's hw_start: reset, RE|TE, RCR, RBSTART, IMR. */
  const start = (rcr = RCR_APM | RCR_AB, imr = 0xffff) => {
    w8(CR, 0x10);
    w8(CR, 0x0c);
    w32(RCR, rcr);
    w32(TCR, 0x03000700);
    w32(RBSTART, RX_BUFFER);
    w16(IMR, imr);
  };
  let readPointer = 0;
  /** Read the ring from CAPR+16 until BUFE as 8139too's rtl8139_rx does, wrapping at the buffer end. */
  const receiveAll = (bufferSize = 8192) => {
    const frames: { status: number; length: number; data: Uint8Array }[] = [];
    while (!(r8(CR) & 1)) {
      const at = (off: number) => ram[RX_BUFFER + ((readPointer + off) % bufferSize)];
      const status = at(0) | (at(1) << 8);
      const length = at(2) | (at(3) << 8);
      const data = new Uint8Array(length);
      for (let i = 0; i < length; i++) data[i] = at(4 + i);
      frames.push({ status, length, data });
      readPointer = (readPointer + length + 4 + 3) & ~3;
      w16(CAPR, (readPointer - 16) & 0xffff);
      readPointer %= bufferSize;
      if (frames.length > 100) throw new Error('ring never empties');
    }
    w16(ISR, INT_ROK | INT_RXOVW);
    return frames;
  };
  return { io, mmio, clock, irq, pci, ram, memory, sw, port, peer, wire, nic, r8, r16, r32, w8, w16, w32, transmit, start, receiveAll };
}

function frameTo(destination: Uint8Array, length: number, fill = 0x5a, source = PEER_MAC): Uint8Array {
  const f = new Uint8Array(length);
  f.set(destination, 0);
  f.set(source.subarray(0, Math.max(0, Math.min(6, length - 6))), 6);
  f[12] = 0x08;
  f[13] = 0x00;
  for (let i = 14; i < length; i++) f[i] = (fill + i) & 0xff;
  return f;
}

/** read_eeprom() of Linux 8139too, bit for bit through 9346CR. */
function readEeprom(w8: (o: number, v: number) => void, r8: (o: number) => number, location: number, addressBits: number): number {
  const EE_ENB = 0x80 | 0x08;
  const command = location | (6 << addressBits);
  w8(CR9346, EE_ENB & ~0x08);
  w8(CR9346, EE_ENB);
  for (let i = 4 + addressBits; i >= 0; i--) {
    const bit = command & (1 << i) ? 0x02 : 0;
    w8(CR9346, EE_ENB | bit);
    w8(CR9346, EE_ENB | bit | 0x04);
  }
  w8(CR9346, EE_ENB);
  let value = 0;
  for (let i = 16; i > 0; i--) {
    w8(CR9346, EE_ENB | 0x04);
    value = (value << 1) | (r8(CR9346) & 1);
    w8(CR9346, EE_ENB);
  }
  w8(CR9346, ~0x08 & 0xff);
  return value;
}

/** Clock a 93C46 command (start bit, 2-bit opcode, 6-bit address, optional data) with CS held. */
function eepromCommand(w8: (o: number, v: number) => void, opcode: number, address: number, data?: number): void {
  const bits: number[] = [1, (opcode >> 1) & 1, opcode & 1];
  for (let i = 5; i >= 0; i--) bits.push((address >> i) & 1);
  if (data !== undefined) for (let i = 15; i >= 0; i--) bits.push((data >> i) & 1);
  w8(CR9346, 0x80);
  w8(CR9346, 0x88);
  for (const b of bits) {
    w8(CR9346, 0x88 | (b << 1));
    w8(CR9346, 0x88 | (b << 1) | 0x04);
  }
  w8(CR9346, 0x80);
}

describe('Rtl8139 PCI function and identification', () => {
  it('is 10ec:8139 revision 10h, an Ethernet controller with 256-byte I/O and memory BARs on INTA#', () => {
    const { pci } = setup();
    expect(pci.configRead(0, 3, 0, 0, 4)).toBe(0x813910ec);
    expect(pci.configRead(0, 3, 0, 8, 4)).toBe(0x02000010);
    expect(pci.configRead(0, 3, 0, 0x3d, 1)).toBe(1);
    pci.configWrite(0, 3, 0, 0x10, 4, 0xffffffff);
    expect(pci.configRead(0, 3, 0, 0x10, 4)).toBe(0xffffff01);
    pci.configWrite(0, 3, 0, 0x14, 4, 0xffffffff);
    expect(pci.configRead(0, 3, 0, 0x14, 4)).toBe(0xffffff00);
  });

  it('reports the RTL8139C in TCR (the entry 8139too matches), also through single bytes', () => {
    const { r32, r8 } = setup();
    // 8139too: HW_REVID(1,1,1,0,1,0,0) is "RTL-8139C"; bits 30:26 and 23:22.
    expect(r32(TCR) & 0x7cc00000).toBe(0x74000000);
    expect(TCR_HWVERID_RTL8139C).toBe(0x74000000);
    expect(r8(TCR + 3)).toBe(0x74); // the Windows driver reads this byte alone
    expect(r8(0x5e)).toBe(0x10);
  });

  it('shows the configured MAC in IDR0-5 through the I/O and the memory BAR alike', () => {
    const { r32, r16, mmio } = setup();
    expect(r32(IDR0)).toBe(0x7e3e1600);
    expect(r16(IDR0 + 4)).toBe(0x15f3);
    expect(mmio.read(MMIO + IDR0, 4)).toBe(0x7e3e1600);
    expect(mmio.read(MMIO + TCR, 4)).toBe(r32(TCR));
  });

  it('software reset keeps IDR and MAR, clears RE/TE, empties the ring and completes at once', () => {
    const { w8, w32, r8, r32, r16, start } = setup();
    start();
    w32(IDR0, 0x44332211);
    w8(MAR0 + 2, 0x80);
    w8(CR, 0x10);
    expect(r8(CR)).toBe(0x01); // RST already clear, BUFE set, RE and TE off
    expect(r32(IDR0)).toBe(0x44332211);
    expect(r8(MAR0 + 2)).toBe(0x80);
    expect(r16(CAPR)).toBe(0xfff0);
    expect(r16(CBR)).toBe(0);
    expect(r32(TSD0) & TSD_OWN).toBe(TSD_OWN);
  });
});

describe('Rtl8139 93C46 EEPROM through 9346CR', () => {
  it('answers 8139too: the 8-bit-address probe of word 0 is not 8129h, words 7-9 hold the MAC', () => {
    const { w8, r8 } = setup();
    expect(readEeprom(w8, r8, 0, 8)).not.toBe(0x8129);
    expect(readEeprom(w8, r8, 0, 6)).toBe(0x8129);
    const mac = [7, 8, 9].flatMap((w) => {
      const v = readEeprom(w8, r8, w, 6);
      return [v & 0xff, v >> 8];
    });
    expect(mac).toEqual(Array.from(MAC));
    expect(readEeprom(w8, r8, 1, 6)).toBe(0x10ec);
    expect(readEeprom(w8, r8, 2, 6)).toBe(0x8139);
  });

  it('takes a new command after sixteen data bits without a chip-select cycle (FreeBSD rl)', () => {
    const { w8, r8 } = setup();
    w8(CR9346, 0x80);
    w8(CR9346, 0x88);
    const words: number[] = [];
    for (const location of [7, 9]) {
      for (const b of [1, 1, 0, ...Array.from({ length: 6 }, (_, i) => (location >> (5 - i)) & 1)]) {
        w8(CR9346, 0x88 | (b << 1));
        w8(CR9346, 0x8c | (b << 1));
      }
      let v = 0;
      for (let i = 0; i < 16; i++) {
        w8(CR9346, 0x88);
        w8(CR9346, 0x8c);
        v = (v << 1) | (r8(CR9346) & 1);
      }
      words.push(v);
    }
    expect(words).toEqual([0x1600, 0x15f3]);
  });

  it('writes only after EWEN, and auto-load copies the new MAC into IDR', () => {
    const { w8, r8, r32 } = setup();
    eepromCommand(w8, 1, 7, 0xbbaa); // WRITE while disabled: ignored
    expect(readEeprom(w8, r8, 7, 6)).toBe(0x1600);
    eepromCommand(w8, 0, 0x30); // EWEN
    eepromCommand(w8, 1, 7, 0xbbaa);
    eepromCommand(w8, 0, 0x00); // EWDS
    eepromCommand(w8, 1, 8, 0x1234); // ignored again
    expect(readEeprom(w8, r8, 7, 6)).toBe(0xbbaa);
    expect(readEeprom(w8, r8, 8, 6)).toBe(0x7e3e);
    w8(CR9346, 0x40); // auto-load
    expect(r8(CR9346) & 0xc0).toBe(0);
    expect(r32(IDR0)).toBe(0x7e3ebbaa);
  });

  it('keeps Config registers read-only unless 9346CR enables configuration writes', () => {
    const { w8, r8 } = setup();
    const before = r8(CONFIG1);
    w8(CONFIG1, before | 0x01);
    expect(r8(CONFIG1)).toBe(before);
    w8(CR9346, 0xc0);
    w8(CONFIG1, before | 0x01);
    w8(CR9346, 0x00);
    expect(r8(CONFIG1)).toBe(before | 0x01);
  });
});

describe('Rtl8139 interrupts', () => {
  it('drives INTA# from ISR & IMR; ISR bits clear by writing ones, per byte lane', () => {
    const { start, transmit, irq, r16, w16, w8, clock, w32 } = setup();
    start(RCR_APM, 0);
    transmit(frameTo(PEER_MAC, 60));
    expect(r16(ISR)).toBe(INT_TOK);
    expect(irq.level).toBe(false);
    w16(IMR, INT_TOK);
    expect(irq.level).toBe(true);
    w32(TIMERINT, 33); // one microsecond of PCI clock
    w32(TCTR, 0);
    clock.advanceBy(2000);
    expect(r16(ISR)).toBe(INT_TOK | INT_TIMEOUT);
    w8(ISR + 1, 0xff); // the high lane only: TimeOut goes, TOK stays
    expect(r16(ISR)).toBe(INT_TOK);
    w16(ISR, 0);
    expect(r16(ISR)).toBe(INT_TOK);
    w16(ISR, INT_TOK);
    expect(r16(ISR)).toBe(0);
    expect(irq.level).toBe(false);
  });

  it('counts TCTR at 33 MHz from its last write and raises TimeOut when it passes TimerInt', () => {
    const { w32, r32, r16, clock } = setup();
    w32(TCTR, 0x12345678);
    clock.advanceBy(1_000_000);
    expect(r32(TCTR)).toBe(33_000);
    w32(TIMERINT, 66_000);
    clock.advanceBy(999_000);
    expect(r16(ISR) & INT_TIMEOUT).toBe(0);
    clock.advanceBy(2_000);
    expect(r16(ISR) & INT_TIMEOUT).toBe(INT_TIMEOUT);
  });

  it('reports the link in BMSR and MSR and signals a change', () => {
    const { nic, r16, r8, w16 } = setup();
    w16(IMR, INT_LINK_CHANGE);
    expect(r16(BMSR) & 0x0024).toBe(0x0024);
    expect(r8(MSR) & 0x04).toBe(0);
    nic.setLinkUp(false);
    expect(r16(BMSR) & 0x0004).toBe(0);
    expect(r8(MSR) & 0x04).toBe(0x04);
    expect(r16(ISR)).toBe(INT_LINK_CHANGE);
    expect(r16(BMCR)).toBe(0x1000);
  });
});

describe('Rtl8139 transmit', () => {
  it('sends the four descriptors in order into the switch, padding short frames, and reports OWN|TOK', () => {
    const { start, transmit, wire, r32, r16, nic } = setup();
    start();
    const frames = [60, 14, 1514, 200, 61].map((n, i) => frameTo(PEER_MAC, n, i * 7, MAC));
    for (const f of frames) transmit(f);
    expect(wire.length).toBe(5);
    expect(wire[0]).toEqual(frames[0]);
    expect(wire[1].length).toBe(60);
    expect(wire[1].subarray(0, 14)).toEqual(frames[1]);
    expect(wire[1].subarray(14).every((b) => b === 0)).toBe(true);
    expect(wire[2]).toEqual(frames[2]);
    expect(wire[4]).toEqual(frames[4]); // descriptor 0 again
    expect(r32(TSD0) >>> 0).toBe((TSD_OWN | TSD_TOK | 61) >>> 0);
    expect(r32(TSD0 + 8) >>> 0).toBe((TSD_OWN | TSD_TOK | 1514) >>> 0);
    expect(r16(TSAD)).toBe(0xf00f); // TOK and OWN of all four
    expect(r16(ISR) & INT_TOK).toBe(INT_TOK);
    expect(nic.stats.txFrames).toBe(5);
  });

  it('holds descriptors while the transmitter is off and sends them when TE is set', () => {
    const { transmit, wire, w8, ram } = setup();
    w8(CR, 0x10);
    transmit(frameTo(PEER_MAC, 100, 1, MAC));
    expect(wire.length).toBe(0);
    ram.fill(0, TX_BUFFER, TX_BUFFER + 4);
    w8(CR, 0x04);
    expect(wire.length).toBe(1);
    expect(wire[0].subarray(0, 4).every((b) => b === 0)).toBe(true); // read at transmit time
  });

  it('aborts descriptors over 1792 bytes and DMA outside RAM with TABT and TER, sending nothing', () => {
    const { start, wire, w32, r32, r16, nic, pci } = setup();
    start();
    w32(TSAD0, TX_BUFFER);
    w32(TSD0, 1793);
    expect(r32(TSD0) & (TSD_TABT | TSD_OWN)).toBe((TSD_TABT | TSD_OWN) >>> 0);
    expect(r16(ISR) & INT_TER).toBe(INT_TER);
    w32(TSAD0 + 4, 0x7ffff000);
    w32(TSD0 + 4, 100);
    expect(r32(TSD0 + 4) & TSD_TABT).toBe(TSD_TABT >>> 0);
    expect(r16(ISR) & INT_SYSTEM_ERROR).toBe(INT_SYSTEM_ERROR);
    expect(pci.configRead(0, 3, 0, 6, 2) & 0x2000).toBe(0x2000);
    expect(wire.length).toBe(0);
    expect(nic.stats.txOversize).toBe(1);
    expect(nic.stats.txDmaErrors).toBe(1);
  });

  it('drops the guest FCS when TCR.CRC is set, and loops frames back to the receiver in loopback', () => {
    const { start, transmit, wire, w32, receiveAll } = setup();
    start(RCR_APM);
    w32(TCR, 0x03010700);
    const f = frameTo(PEER_MAC, 104, 1, MAC);
    transmit(f);
    expect(wire[0]).toEqual(f.subarray(0, 100));
    w32(TCR, 0x03060700);
    const own = frameTo(MAC, 80);
    transmit(own);
    expect(wire.length).toBe(1);
    const got = receiveAll();
    expect(got.length).toBe(1);
    expect(got[0].data.subarray(0, 80)).toEqual(own);
  });

  it('does no bus-master cycles while PCI bus mastering is off', () => {
    const { start, transmit, wire, pci, nic } = setup();
    start();
    pci.configWrite(0, 3, 0, 0x04, 2, 0x0003);
    transmit(frameTo(PEER_MAC, 60));
    expect(wire.length).toBe(0);
    expect(nic.stats.txDmaErrors).toBe(1);
  });
});

describe('Rtl8139 receive', () => {
  it('writes header, frame and CRC at CBR, advances to the next dword and raises ROK', () => {
    const { start, peer, ram, r16, r8, irq, w16, nic } = setup();
    start();
    const f = frameTo(MAC, 99);
    peer.send(f);
    const view = new DataView(ram.buffer, RX_BUFFER);
    expect(view.getUint16(0, true)).toBe(RX_ROK | RX_PAM);
    expect(view.getUint16(2, true)).toBe(103);
    expect(ram.subarray(RX_BUFFER + 4, RX_BUFFER + 103)).toEqual(f);
    expect(view.getUint32(4 + 99, true)).toBe(crc32(f));
    expect(r16(CBR)).toBe(108);
    expect(r8(CR) & 1).toBe(0);
    expect(r16(ISR) & INT_ROK).toBe(INT_ROK);
    expect(irq.level).toBe(true);
    w16(CAPR, 108 - 16);
    expect(r8(CR) & 1).toBe(1);
    expect(nic.stats.rxFrames).toBe(1);
  });

  it('filters: own address, broadcast, multicast by the MAR hash, everything when promiscuous', () => {
    const { start, peer, receiveAll, w32, w8, nic } = setup();
    start(RCR_APM);
    const group = new Uint8Array([0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb]);
    const other = new Uint8Array([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
    peer.send(frameTo(BROADCAST_MAC, 60));
    peer.send(frameTo(group, 60));
    peer.send(frameTo(other, 60));
    peer.send(frameTo(MAC, 60));
    expect(receiveAll().map((f) => f.status)).toEqual([RX_ROK | RX_PAM]);
    expect(nic.stats.rxFiltered).toBe(3);
    w32(RCR, RCR_APM | RCR_AB | RCR_AM);
    peer.send(frameTo(group, 60)); // hash bit clear: still refused
    const bit = multicastHashIndex(group);
    w8(MAR0 + (bit >> 3), 1 << (bit & 7));
    peer.send(frameTo(group, 60));
    peer.send(frameTo(BROADCAST_MAC, 60));
    expect(receiveAll().map((f) => f.status)).toEqual([RX_ROK | RX_MAR, RX_ROK | RX_BAR]);
    w32(RCR, RCR_AAP);
    peer.send(frameTo(other, 60));
    expect(receiveAll().map((f) => f.status)).toEqual([RX_ROK]);
    expect(nic.stats.rxFiltered).toBe(4);
  });

  it('pads runts to 60 bytes and drops frames too short or too long for the chip', () => {
    const direct: NetworkPort = { send: () => {}, onReceive: undefined };
    const { start, receiveAll, nic } = setup({ port: direct });
    start(RCR_AAP);
    direct.onReceive!(frameTo(MAC, 20));
    direct.onReceive!(new Uint8Array(5));
    direct.onReceive!(frameTo(MAC, 5000));
    const got = receiveAll();
    expect(got.map((f) => f.length)).toEqual([64]);
    expect(got[0].data.subarray(20, 60).every((b) => b === 0)).toBe(true);
    expect(nic.stats).toMatchObject({ rxRuntPadded: 1, rxMalformed: 1, rxOversize: 1, rxFrames: 1 });
  });

  it('wraps a frame around the end of the 8 KiB ring when WRAP is clear', () => {
    const { start, peer, receiveAll, ram, r16 } = setup();
    start();
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 9; i++) {
      const f = frameTo(MAC, 1000, i);
      frames.push(f);
      peer.send(f);
      const got = receiveAll();
      expect(got.length).toBe(1);
      expect(got[0].data.subarray(0, 1000)).toEqual(f);
    }
    // The ninth record started at 8 * 1008 = 8064: 128 bytes at the end, the rest at the start.
    expect(r16(CBR)).toBe((9 * 1008) % 8192);
    expect(ram.subarray(RX_BUFFER, RX_BUFFER + 4)).toEqual(frames[8].subarray(124, 128));
  });

  it('runs past the end of the buffer when WRAP is set', () => {
    const { start, peer, receiveAll, ram } = setup();
    start(RCR_APM | RCR_WRAP);
    for (let i = 0; i < 8; i++) {
      peer.send(frameTo(MAC, 1000));
      receiveAll();
    }
    ram.fill(0xee, RX_BUFFER, RX_BUFFER + 1024);
    const f = frameTo(MAC, 1000, 3);
    peer.send(f);
    expect(ram.subarray(RX_BUFFER + 8064 + 4, RX_BUFFER + 8064 + 1004)).toEqual(f);
    expect(ram[RX_BUFFER]).toBe(0xee);
  });

  it('counts frames that find the ring full in MPC and raises RXOVW; writing MPC clears it', () => {
    const { start, peer, r32, r16, w32, nic, receiveAll } = setup();
    start();
    for (let i = 0; i < 10; i++) peer.send(frameTo(MAC, 1000));
    expect(nic.stats.rxFrames).toBe(8); // 8 * 1008 fits, the ninth would reach the read pointer
    expect(r32(MPC)).toBe(2);
    expect(r16(ISR) & INT_RXOVW).toBe(INT_RXOVW);
    w32(MPC, 0);
    expect(r32(MPC)).toBe(0);
    expect(receiveAll().length).toBe(8);
  });

  it('survives a receive buffer programmed outside RAM: frame dropped, SERR, counted', () => {
    const { start, peer, w32, nic, r16 } = setup();
    start();
    w32(RBSTART, 0xfff00000);
    expect(() => peer.send(frameTo(MAC, 100))).not.toThrow();
    expect(nic.stats.rxDmaErrors).toBe(1);
    expect(nic.stats.rxFrames).toBe(0);
    expect(r16(ISR) & (INT_SYSTEM_ERROR | INT_ROK)).toBe(INT_SYSTEM_ERROR);
  });

  it('ignores frames while the receiver is disabled or the link is down', () => {
    const { peer, nic, start, w8 } = setup();
    peer.send(frameTo(MAC, 60));
    start();
    nic.setLinkUp(false);
    peer.send(frameTo(MAC, 60));
    nic.setLinkUp(true);
    w8(CR, 0x04);
    peer.send(frameTo(MAC, 60));
    expect(nic.stats.rxDisabled).toBe(3);
  });
});

describe('Rtl8139 C+ mode', () => {
  it('transmits through a 16-byte descriptor on TxPoll and receives into an RX descriptor', () => {
    const { start, w16, w32, w8, ram, memory, wire, peer, r16 } = setup();
    start();
    w16(CPCMD, 0x0003);
    const txRing = 0x20000;
    const rxRing = 0x21000;
    const frame = frameTo(PEER_MAC, 90, 1, MAC);
    ram.set(frame, 0x22000);
    memory.writeU32(txRing, 0x80000000 | 0x40000000 | 0x30000000 | 90);
    memory.writeU32(txRing + 8, 0x22000);
    w32(TSAD0, txRing);
    w32(TSAD0 + 4, 0);
    w8(TPPOLL, 0x40);
    expect(wire).toEqual([frame]);
    expect(memory.readU32(txRing) & 0x80000000).toBe(0);
    memory.writeU32(rxRing, 0x80000000 | 0x40000000 | 1536);
    memory.writeU32(rxRing + 8, 0x23000);
    w32(RDSAR, rxRing);
    const incoming = frameTo(MAC, 70);
    peer.send(incoming);
    const dw0 = memory.readU32(rxRing);
    expect(dw0 & 0x80000000).toBe(0);
    expect(dw0 & 0x1fff).toBe(74);
    expect(dw0 & 0x30000000).toBe(0x30000000);
    expect(ram.subarray(0x23000, 0x23000 + 70)).toEqual(incoming);
    expect(r16(ISR) & (INT_ROK | INT_TOK)).toBe(INT_ROK | INT_TOK);
  });
});

describe('Rtl8139 with the gateway on its switch', () => {
  it('gets the ARP reply to its own transmit, queued until the register write returns', () => {
    const sw = new VirtualSwitch('br');
    const gatewayPort = sw.connect('gateway');
    const gateway = new Gateway({ port: gatewayPort });
    const { start, transmit, receiveAll } = setup({ port: sw.connect('nic') });
    start();
    const guestIp = parseIpv4Address('10.0.2.15')!;
    const request = buildArp({ operation: ARP_REQUEST, senderMac: MAC, senderIp: guestIp, targetMac: new Uint8Array(6), targetIp: gateway.address });
    transmit(buildEthernet(BROADCAST_MAC, MAC, ETHERTYPE_ARP, request));
    const got = receiveAll();
    expect(got.length).toBe(1);
    const eth = parseEthernet(got[0].data.subarray(0, got[0].length - 4))!;
    const reply = parseArp(eth.payload)!;
    expect(reply.operation).toBe(ARP_REPLY);
    expect(reply.senderMac).toEqual(gateway.mac);
    expect(reply.targetIp).toBe(guestIp);
  });
});

describe('Rtl8139 leasing an address from the gateway', () => {
  it('runs DISCOVER -> OFFER -> REQUEST -> ACK through its descriptors and receive ring', () => {
    const sw = new VirtualSwitch('br');
    new Gateway({ port: sw.connect('gateway') });
    const { start, transmit, receiveAll } = setup({ port: sw.connect('nic') });
    start();
    const dhcp = (type: number, options: [number, Uint8Array][] = []) => {
      const payload = buildDhcp({
        op: 1, xid: 0x5eed, secs: 0, flags: 0, ciaddr: 0, yiaddr: 0, siaddr: 0, giaddr: 0, chaddr: MAC, file: '',
        options: new Map([[OPTION_MESSAGE_TYPE, new Uint8Array([type])], ...options]),
      });
      const udp = buildUdp(0, 0xffffffff, { sourcePort: 68, destinationPort: 67, payload });
      transmit(buildEthernet(BROADCAST_MAC, MAC, ETHERTYPE_IPV4, buildIpv4({ source: 0, destination: 0xffffffff, protocol: IP_PROTOCOL_UDP, payload: udp })));
      const [frame] = receiveAll();
      expect(frame.status).toBe(RX_ROK | RX_BAR);
      const ip = parseIpv4(parseEthernet(frame.data.subarray(0, frame.length - 4))!.payload)!;
      return parseDhcp(parseUdp(ip.payload, ip.source, ip.destination)!.payload)!;
    };
    const offer = dhcp(DHCP_DISCOVER);
    expect(offer.options.get(OPTION_MESSAGE_TYPE)![0]).toBe(DHCP_OFFER);
    const address = offer.yiaddr;
    const ack = dhcp(DHCP_REQUEST, [[OPTION_REQUESTED_ADDRESS, new Uint8Array([address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff])]]);
    expect(ack.options.get(OPTION_MESSAGE_TYPE)![0]).toBe(DHCP_ACK);
    expect(ack.yiaddr).toBe(parseIpv4Address('10.0.2.15'));
  });
});

describe('Rtl8139 robustness and state', () => {
  it('takes any value at any offset and size without throwing', () => {
    const { io, start } = setup();
    start();
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 20000; i++) {
      const size = ([1, 2, 4] as const)[next() % 3];
      const offset = next() & 0xff;
      if (next() & 1) io.write(IO + offset, size, next());
      else io.read(IO + offset, size);
    }
  });

  it('saves and restores its registers, ring pointers and EEPROM; refuses other versions', () => {
    const a = setup();
    a.start();
    a.peer.send(frameTo(MAC, 100));
    a.w32(MAR0, 0xdeadbeef);
    const saved = a.nic.saveState();
    const b = setup();
    b.nic.loadState(saved);
    expect(b.r16(CBR)).toBe(a.r16(CBR));
    expect(b.r32(MAR0)).toBe(0xdeadbeef);
    expect(b.r16(ISR)).toBe(a.r16(ISR));
    expect(b.irq.level).toBe(true);
    expect(readEeprom(b.w8, b.r8, 8, 6)).toBe(0x7e3e);
    expect(() => b.nic.loadState({ ...saved, version: 2 })).toThrow(StateVersionError);
  });
});

describe('Rtl8139 option ROM', () => {
  function card(rom?: Uint8Array) {
    const mmio = new MmioMap();
    const pci = new PciBus({ io: new IoBus(), mmio, routeInterrupt: () => new IrqLine('pirqa').source() });
    const nic = new Rtl8139({ mac: MAC, memory: new GuestMemory(new Uint8Array(RAM_BYTES)), clock: new EventClock(), rom });
    pci.addFunction(3, 0, nic);
    return { mmio, pci };
  }

  it('shows the ROM it is given through the expansion ROM BAR (what SeaBIOS copies and runs)', () => {
    const rom = Uint8Array.from({ length: 75776 }, (_, i) => (i * 13) & 0xff);
    rom[0] = 0x55;
    rom[1] = 0xaa;
    const { mmio, pci } = card(rom);
    pci.configWrite(0, 3, 0, 0x30, 4, 0xfffffffe);
    expect(pci.configRead(0, 3, 0, 0x30, 4)).toBe(0xfffe0000); // 128 KiB window for 74 KiB
    pci.configWrite(0, 3, 0, 0x30, 4, 0xfe000001);
    pci.configWrite(0, 3, 0, 0x04, 2, 0x0002);
    expect(mmio.read(0xfe000000, 2)).toBe(0xaa55);
    expect(mmio.read(0xfe000000 + 75775, 1)).toBe(rom[75775]);
  });

  it('has no ROM BAR without one', () => {
    const { pci } = card();
    pci.configWrite(0, 3, 0, 0x30, 4, 0xffffffff);
    expect(pci.configRead(0, 3, 0, 0x30, 4)).toBe(0);
  });
});
