import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { TestMemory } from './test-memory.ts';
import {
  FW_CFG_DMA_CTL_ERROR,
  FW_CFG_DMA_CTL_READ,
  FW_CFG_DMA_CTL_SELECT,
  FW_CFG_DMA_CTL_SKIP,
  FW_CFG_DMA_CTL_WRITE,
  FW_CFG_E820_TABLE,
  FW_CFG_FILE_DIR,
  FW_CFG_ID,
  FW_CFG_NB_CPUS,
  FW_CFG_RAM_SIZE,
  FW_CFG_SIGNATURE,
  FwCfg,
} from '../../src/devices/fw-cfg.ts';

class FakeRam extends TestMemory {
  constructor() {
    super(0x10000);
  }
}

function setup(dmaEnabled = true) {
  const io = new IoBus();
  const ram = new FakeRam();
  const fw = new FwCfg({ io, dma: ram, dmaEnabled });
  const readItem = (key: number, n: number) => {
    io.write(0x510, 2, key);
    return Array.from({ length: n }, () => io.read(0x511, 1));
  };
  /** What SeaBIOS does: build FWCfgDmaAccess in RAM, write its address big-endian, high half first. */
  const dmaAccess = (at: number, control: number, length: number, address: number) => {
    const v = new DataView(ram.bytes.buffer);
    v.setUint32(at, control);
    v.setUint32(at + 4, length);
    v.setUint32(at + 8, 0);
    v.setUint32(at + 12, address);
    io.write(0x514, 4, 0); // high half (0, byte-swapped is still 0)
    io.write(0x518, 4, bswap(at));
    return v.getUint32(at); // control after the transfer
  };
  return { io, ram, fw, readItem, dmaAccess };
}

function bswap(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

function text(bytes: number[] | Uint8Array): string {
  return String.fromCharCode(...bytes);
}

describe('FwCfg', () => {
  it('reads the "QEMU" signature and the ID with the DMA bit', () => {
    const { readItem } = setup();
    expect(text(readItem(FW_CFG_SIGNATURE, 4))).toBe('QEMU');
    expect(readItem(FW_CFG_ID, 4)).toEqual([3, 0, 0, 0]);
    expect(setup(false).readItem(FW_CFG_ID, 4)).toEqual([1, 0, 0, 0]);
  });

  it('reads zero past the end of an item and for unknown keys', () => {
    const { readItem } = setup();
    expect(readItem(FW_CFG_SIGNATURE, 6)).toEqual([0x51, 0x45, 0x4d, 0x55, 0, 0]);
    expect(readItem(0x1234, 3)).toEqual([0, 0, 0]);
  });

  it('stores numeric items little-endian in the width asked for', () => {
    const { fw, readItem } = setup();
    fw.setNumeric(FW_CFG_RAM_SIZE, 512 * 2 ** 20 + 2 ** 32, 8);
    fw.setNumeric(FW_CFG_NB_CPUS, 2, 2);
    expect(readItem(FW_CFG_RAM_SIZE, 8)).toEqual([0, 0, 0, 0x20, 1, 0, 0, 0]);
    expect(readItem(FW_CFG_NB_CPUS, 2)).toEqual([2, 0]);
    fw.setBytes(FW_CFG_E820_TABLE, new Uint8Array([9, 8]));
    expect(readItem(FW_CFG_E820_TABLE, 2)).toEqual([9, 8]);
    expect(() => fw.setBytes(0x21, new Uint8Array(1))).toThrow(/addFile/);
  });

  it('lists files sorted by name with big-endian sizes and keys from 0x20', () => {
    const { fw, readItem } = setup();
    fw.addFile('etc/e820', new Uint8Array(40));
    const bootorder = new TextEncoder().encode('/pci@i0cf8/ide@1,1/drive@0/disk@0\n');
    fw.addFile('bootorder', bootorder);
    fw.addFile('etc/acpi/tables', new Uint8Array(0x1234));
    const dir = new Uint8Array(readItem(FW_CFG_FILE_DIR, 4 + 3 * 64));
    const v = new DataView(dir.buffer);
    expect(v.getUint32(0)).toBe(3);
    const entries = [0, 1, 2].map((i) => {
      const at = 4 + 64 * i;
      const nameBytes = dir.subarray(at + 8, at + 64);
      return { size: v.getUint32(at), select: v.getUint16(at + 4), name: text(nameBytes.subarray(0, nameBytes.indexOf(0))) };
    });
    expect(entries).toEqual([
      { size: bootorder.length, select: 0x20, name: 'bootorder' },
      { size: 0x1234, select: 0x21, name: 'etc/acpi/tables' },
      { size: 40, select: 0x22, name: 'etc/e820' },
    ]);
    expect(fw.fileKey('etc/e820')).toBe(0x22);
    expect(text(readItem(0x20, 5))).toBe('/pci@');
    expect(() => fw.addFile('x'.repeat(56), new Uint8Array(1))).toThrow();
  });

  it('reads the DMA register as the "QEMU CFG" signature', () => {
    const { io } = setup();
    expect(io.read(0x514, 1)).toBe(0x51);
    expect(io.read(0x514, 4)).toBe(0x554d4551);
    expect(io.read(0x518, 4)).toBe(0x47464320);
    expect(setup(false).io.read(0x514, 1)).toBe(0xff);
  });

  it('runs a DMA read with select, big-endian fields, then zero-fills past the end', () => {
    const { fw, ram, dmaAccess } = setup();
    fw.addFile('etc/table', new Uint8Array([1, 2, 3, 4, 5]));
    ram.bytes.fill(0xee, 0x2000, 0x2010);
    const key = fw.fileKey('etc/table')!;
    const control = dmaAccess(0x1000, (key << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ, 8, 0x2000);
    expect(control).toBe(0);
    expect(Array.from(ram.bytes.subarray(0x2000, 0x200a))).toEqual([1, 2, 3, 4, 5, 0, 0, 0, 0xee, 0xee]);
  });

  it('continues from the current offset, and skips', () => {
    const { fw, ram, dmaAccess } = setup();
    fw.addFile('f', new Uint8Array([10, 11, 12, 13, 14, 15]));
    expect(dmaAccess(0x1000, (0x20 << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP, 2, 0)).toBe(0);
    expect(dmaAccess(0x1000, FW_CFG_DMA_CTL_READ, 2, 0x3000)).toBe(0);
    expect(dmaAccess(0x1000, FW_CFG_DMA_CTL_READ, 1, 0x3002)).toBe(0);
    expect(Array.from(ram.bytes.subarray(0x3000, 0x3003))).toEqual([12, 13, 14]);
  });

  it('reports an error for writes to read-only items and accepts writes to writable files', () => {
    const { fw, ram, dmaAccess } = setup();
    const seen: number[] = [];
    fw.addFile('etc/ro', new Uint8Array(4));
    fw.addFile('etc/rw', new Uint8Array(4), { writable: true, onWrite: (_d, off, n) => seen.push(off, n) });
    ram.bytes.set([0xaa, 0xbb], 0x4000);
    const ro = fw.fileKey('etc/ro')!;
    const rw = fw.fileKey('etc/rw')!;
    expect(dmaAccess(0x1000, (ro << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 2, 0x4000)).toBe(FW_CFG_DMA_CTL_ERROR);
    expect(dmaAccess(0x1000, (rw << 16) | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE, 2, 0x4000)).toBe(0);
    expect(Array.from(fw.fileData('etc/rw')!)).toEqual([0xaa, 0xbb, 0, 0]);
    expect(seen).toEqual([0, 2]);
    // A write running past the end of the file fails as a whole.
    expect(dmaAccess(0x1000, FW_CFG_DMA_CTL_WRITE, 4, 0x4000)).toBe(FW_CFG_DMA_CTL_ERROR);
  });

  it('survives a descriptor in unmapped memory', () => {
    const { io, ram } = setup();
    // The descriptor at 4 GiB reads as all ones: select 0xffff (nothing there), read 4 GiB of
    // zeros to an address beyond the physical space. Only the status write-back happens.
    io.write(0x514, 4, bswap(0x00000001));
    expect(() => io.write(0x518, 4, 0)).not.toThrow();
    expect(ram.writes).toEqual([[2 ** 32, 4]]);
  });

  it('reset selects the signature again; state round-trips', () => {
    const { fw, io, readItem } = setup();
    readItem(FW_CFG_ID, 1);
    fw.reset();
    expect(io.read(0x511, 1)).toBe(0x51);
    io.write(0x510, 2, FW_CFG_SIGNATURE);
    io.read(0x511, 1);
    const saved = fw.saveState();
    const other = setup();
    other.fw.loadState(saved);
    expect(other.io.read(0x511, 1)).toBe(0x45);
    expect(() => other.fw.loadState({ version: 7 })).toThrow();
  });
});
