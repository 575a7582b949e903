import { describe, expect, it } from 'vitest';
import { StateVersionError } from '../../src/bus/device.ts';
import { IoBus } from '../../src/bus/io-bus.ts';
import { DMA_READ, DMA_VERIFY, DMA_WRITE, IsaDma8237 } from '../../src/devices/isa-dma8237.ts';
import { TestMemory } from './test-memory.ts';

class TestRam extends TestMemory {
  constructor() {
    super(4 << 20);
  }
}

function setup() {
  const io = new IoBus();
  const ram = new TestRam();
  const dma = new IsaDma8237({ io, memory: ram });
  // What the BIOS does at POST: master clear both, cascade channel 4 and unmask it.
  io.write(0x0d, 1, 0);
  io.write(0xda, 1, 0);
  io.write(0xd6, 1, 0xc0);
  io.write(0xd4, 1, 0x00);
  return { io, ram, dma };
}

/** Program a DMA1 channel like a BIOS does: mask, flip-flop, address, count, mode, page. */
function program1(io: IoBus, ch: number, address: number, count: number, mode: number, page: number): void {
  io.write(0x0a, 1, 4 | ch);
  io.write(0x0c, 1, 0);
  io.write(ch * 2, 1, address & 0xff);
  io.write(ch * 2, 1, address >> 8);
  io.write(0x0c, 1, 0);
  io.write(ch * 2 + 1, 1, count & 0xff);
  io.write(ch * 2 + 1, 1, count >> 8);
  io.write(0x0b, 1, mode | ch);
  io.write([0x87, 0x83, 0x81, 0x82][ch], 1, page);
}

function program2(io: IoBus, ch: number, wordAddress: number, count: number, mode: number, page: number): void {
  const c = ch - 4;
  io.write(0xd4, 1, 4 | c);
  io.write(0xd8, 1, 0);
  io.write(0xc0 + c * 4, 1, wordAddress & 0xff);
  io.write(0xc0 + c * 4, 1, wordAddress >> 8);
  io.write(0xd8, 1, 0);
  io.write(0xc2 + c * 4, 1, count & 0xff);
  io.write(0xc2 + c * 4, 1, count >> 8);
  io.write(0xd6, 1, mode | c);
  io.write([0, 0x8b, 0x89, 0x8a][c], 1, page);
}

function seq(n: number, start = 1): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
}

describe('IsaDma8237 registers', () => {
  it('reads back address and count through the flip-flop, current values', () => {
    const { io } = setup();
    program1(io, 2, 0x1234, 0x01ff, 0x44, 0);
    io.write(0x0c, 1, 0);
    expect(io.read(0x04, 1)).toBe(0x34);
    expect(io.read(0x04, 1)).toBe(0x12);
    expect(io.read(0x05, 1)).toBe(0xff);
    expect(io.read(0x05, 1)).toBe(0x01);
    // Without clearing, the flip-flop continues where it was.
    io.write(0x0c, 1, 0);
    io.read(0x04, 1);
    expect(io.read(0x05, 1)).toBe(0x01);
  });

  it('keeps page, high page and scratch page registers', () => {
    const { io } = setup();
    io.write(0x81, 1, 0x12);
    io.write(0x481, 1, 0x34);
    expect(io.read(0x81, 1)).toBe(0x12);
    expect(io.read(0x481, 1)).toBe(0x34);
    // Writing the low page clears the high page (EISA rule).
    io.write(0x81, 1, 0x13);
    expect(io.read(0x481, 1)).toBe(0);
    io.write(0x84, 1, 0x5a);
    expect(io.read(0x84, 1)).toBe(0x5a);
    expect(io.read(0x484, 1)).toBe(0xff);
    expect(io.read(0x8b, 1)).toBe(0);
  });

  it('treats odd DMA2 ports as holes', () => {
    const { io } = setup();
    io.write(0xc1, 1, 0x55);
    expect(io.read(0xc1, 1)).toBe(0xff);
    io.write(0xd8, 1, 0);
    expect(io.read(0xc0, 1)).toBe(0);
  });

  it('handles single mask, clear mask, write all mask and master clear', () => {
    const { io } = setup();
    expect(io.read(0x0f, 1) & 0x0f).toBe(0x0f); // master clear masked everything
    io.write(0x0e, 1, 0);
    expect(io.read(0x0f, 1) & 0x0f).toBe(0);
    io.write(0x0a, 1, 0x06);
    expect(io.read(0x0f, 1) & 0x0f).toBe(0x04);
    io.write(0x0a, 1, 0x02);
    expect(io.read(0x0f, 1) & 0x0f).toBe(0);
    io.write(0x0f, 1, 0xfa);
    expect(io.read(0x0f, 1) & 0x0f).toBe(0x0a);
    io.read(0x00, 1); // flip-flop now high
    io.write(0x0d, 1, 0);
    expect(io.read(0x0f, 1) & 0x0f).toBe(0x0f);
    io.write(0x00, 1, 0x77); // flip-flop was cleared: this is the low byte
    io.write(0x00, 1, 0x00);
    io.write(0x0c, 1, 0);
    expect(io.read(0x00, 1)).toBe(0x77);
  });

  it('shows software and device requests in the status register', () => {
    const { io, dma } = setup();
    io.write(0x09, 1, 0x05); // request channel 1
    expect(io.read(0x08, 1) & 0xf0).toBe(0x20);
    io.write(0x09, 1, 0x01);
    const ch = dma.channel(3);
    ch.holdRequest(() => {});
    expect(io.read(0x08, 1) & 0xf0).toBe(0x80);
    ch.releaseRequest();
    expect(io.read(0x08, 1) & 0xf0).toBe(0);
  });

  it('refuses channel 4 and out-of-range channels to devices', () => {
    const { dma } = setup();
    expect(() => dma.channel(4)).toThrow(RangeError);
    expect(() => dma.channel(8)).toThrow(RangeError);
    expect(() => dma.channel(-1)).toThrow(RangeError);
  });
});

describe('IsaDma8237 transfers', () => {
  it('moves bytes into memory up to terminal count, then sets TC and masks the channel', () => {
    const { io, ram, dma } = setup();
    program1(io, 2, 0x0000, 511, 0x44, 0x01); // single, write (to memory), channel 2
    const ch = dma.channel(2);
    expect(ch.transferType()).toBe(DMA_WRITE);
    let taken = -1;
    const data = seq(600);
    io.write(0x0a, 1, 0x02); // unmask
    ch.holdRequest(() => {
      taken = ch.writeMemory(data);
      ch.releaseRequest();
    });
    expect(taken).toBe(512);
    expect(ch.terminalCount()).toBe(true);
    expect(Array.from(ram.bytes.subarray(0x10000, 0x10000 + 512))).toEqual(Array.from(data.subarray(0, 512)));
    expect(ram.bytes[0x10000 + 512]).toBe(0);
    const status = io.read(0x08, 1);
    expect(status & 0x0f).toBe(0x04);
    expect(io.read(0x08, 1) & 0x0f).toBe(0); // read-to-clear
    expect(io.read(0x0f, 1) & 0x04).toBe(0x04); // masked at TC without auto-init
    // Current address advanced by 512, current count wrapped to 0xffff.
    io.write(0x0c, 1, 0);
    expect(io.read(0x04, 1) | (io.read(0x04, 1) << 8)).toBe(0x0200);
    expect(io.read(0x05, 1) | (io.read(0x05, 1) << 8)).toBe(0xffff);
    // A masked channel moves nothing.
    expect(ch.writeMemory(seq(4))).toBe(0);
  });

  it('waits for the unmask (and the cascade) before calling the service', () => {
    const io = new IoBus();
    const ram = new TestRam();
    const dma = new IsaDma8237({ io, memory: ram });
    program1(io, 2, 0, 15, 0x44, 0);
    const ch = dma.channel(2);
    let calls = 0;
    ch.holdRequest(() => {
      calls++;
      ch.writeMemory(seq(16));
      ch.releaseRequest();
    });
    io.write(0x0a, 1, 0x02); // channel unmasked, but channel 4 (cascade) is still masked
    expect(calls).toBe(0);
    io.write(0xd6, 1, 0xc0);
    io.write(0xd4, 1, 0x00);
    expect(calls).toBe(1);
    expect(ram.bytes[15]).toBe(16);
  });

  it('stops while the controller is disabled by the command register', () => {
    const { io, dma } = setup();
    program1(io, 1, 0, 15, 0x44, 0);
    io.write(0x08, 1, 0x04);
    io.write(0x0a, 1, 0x01);
    const ch = dma.channel(1);
    let calls = 0;
    ch.holdRequest(() => calls++);
    expect(calls).toBe(0);
    io.write(0x08, 1, 0x00);
    expect(calls).toBe(1);
  });

  it('wraps the address within the 64 KiB page on byte channels', () => {
    const { io, ram, dma } = setup();
    program1(io, 2, 0xfff0, 31, 0x44, 0x02);
    io.write(0x0a, 1, 0x02);
    const ch = dma.channel(2);
    expect(ch.writeMemory(seq(32))).toBe(32);
    expect(ram.bytes[0x2fff0]).toBe(1);
    expect(ram.bytes[0x2ffff]).toBe(16);
    expect(ram.bytes[0x20000]).toBe(17);
    expect(ram.bytes[0x30000]).toBe(0);
  });

  it('moves words on channels 5-7: address in words, page bit 0 ignored, 128 KiB wrap', () => {
    const { io, ram, dma } = setup();
    program2(io, 5, 0x8000, 3, 0x44, 0x03);
    io.write(0xd4, 1, 0x01);
    const ch = dma.channel(5);
    expect(ch.writeMemory(seq(10))).toBe(8);
    expect(ram.bytes[0x30000]).toBe(1);
    expect(ram.bytes[0x30007]).toBe(8);
    expect(io.read(0xd0, 1) & 0x02).toBe(0x02);

    program2(io, 6, 0xffff, 1, 0x44, 0x04);
    io.write(0xd4, 1, 0x02);
    expect(dma.channel(6).writeMemory(seq(4, 0x40))).toBe(4);
    expect(ram.bytes[0x5fffe]).toBe(0x40);
    expect(ram.bytes[0x5ffff]).toBe(0x41);
    expect(ram.bytes[0x40000]).toBe(0x42);
  });

  it('reloads on terminal count in auto-init mode and stays unmasked', () => {
    const { io, ram, dma } = setup();
    program1(io, 2, 0x100, 3, 0x54, 0); // auto-init, write
    io.write(0x0a, 1, 0x02);
    const ch = dma.channel(2);
    expect(ch.writeMemory(seq(4, 10))).toBe(4);
    expect(ch.writeMemory(seq(4, 20))).toBe(4);
    expect(Array.from(ram.bytes.subarray(0x100, 0x104))).toEqual([20, 21, 22, 23]);
    expect(io.read(0x0f, 1) & 0x04).toBe(0);
    expect(io.read(0x08, 1) & 0x04).toBe(0x04);
  });

  it('counts addresses down in decrement mode', () => {
    const { io, ram, dma } = setup();
    program1(io, 2, 0x200, 3, 0x64, 0);
    io.write(0x0a, 1, 0x02);
    expect(dma.channel(2).writeMemory(seq(4))).toBe(4);
    expect(Array.from(ram.bytes.subarray(0x1fd, 0x201))).toEqual([4, 3, 2, 1]);
  });

  it('reads memory to the device in read mode, and verify mode moves nothing', () => {
    const { io, ram, dma } = setup();
    ram.bytes.set(seq(8, 0x80), 0x3000);
    program1(io, 2, 0x3000, 7, 0x48, 0); // read (from memory)
    io.write(0x0a, 1, 0x02);
    const ch = dma.channel(2);
    expect(ch.transferType()).toBe(DMA_READ);
    const dest = new Uint8Array(8);
    expect(ch.readMemory(dest)).toBe(8);
    expect(Array.from(dest)).toEqual(Array.from(seq(8, 0x80)));

    program1(io, 2, 0x3000, 7, 0x40, 0); // verify
    io.write(0x0a, 1, 0x02);
    expect(ch.transferType()).toBe(DMA_VERIFY);
    ram.writes = [];
    expect(ch.writeMemory(seq(8))).toBe(8);
    expect(ram.writes).toEqual([]);
    expect(io.read(0x08, 1) & 0x04).toBe(0x04);
  });

  it('does not write memory when the device pushes data on a read-mode channel', () => {
    const { io, ram, dma } = setup();
    program1(io, 3, 0x500, 3, 0x48, 0);
    io.write(0x0a, 1, 0x03);
    expect(dma.channel(3).writeMemory(seq(4))).toBe(4);
    expect(ram.bytes[0x500]).toBe(0);
  });

  it('uses the high page register for addresses above 16 MiB', () => {
    const { io, ram, dma } = setup();
    program1(io, 2, 0x0010, 1, 0x44, 0x00);
    io.write(0x481, 1, 0x01);
    io.write(0x0a, 1, 0x02);
    ram.writes = [];
    dma.channel(2).writeMemory(seq(2));
    expect(ram.writes[0][0]).toBe(0x1000010);
  });
});

describe('IsaDma8237 state', () => {
  it('saves and restores registers, and refuses other versions', () => {
    const { io, dma } = setup();
    program1(io, 2, 0xabcd, 0x1234, 0x56, 0x07);
    io.write(0x0a, 1, 0x02);
    const saved = dma.saveState();
    dma.reset();
    expect(io.read(0x81, 1)).toBe(0);
    dma.loadState(structuredClone(saved));
    expect(io.read(0x81, 1)).toBe(0x07);
    io.write(0x0c, 1, 0);
    expect(io.read(0x04, 1) | (io.read(0x04, 1) << 8)).toBe(0xabcd);
    expect(io.read(0x0f, 1) & 0x04).toBe(0);
    expect(() => dma.loadState({ ...saved, version: 2 })).toThrow(StateVersionError);
  });
});
