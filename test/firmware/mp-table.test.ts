import { describe, expect, it } from 'vitest';
import { byteSum } from '../../src/firmware/acpi/checksum.ts';
import { describeBoard } from '../../src/firmware/board-description.ts';
import {
  buildMpTable, MP_BUS, MP_CONFIG_HEADER_LENGTH, MP_EXTINT, MP_FLOATING_LENGTH, MP_INT, MP_IO_APIC, MP_IO_INTERRUPT, MP_ISA_BUS_ID,
  MP_LEVEL_HIGH, MP_LOCAL_INTERRUPT, MP_NMI, MP_PCI_BUS_ID, MP_PROCESSOR, MP_TABLE_FILE, mpTableLoaderCommands,
} from '../../src/firmware/mp-table.ts';

interface Entry { type: number; bytes: Uint8Array }

function parse(file: Uint8Array) {
  const v = new DataView(file.buffer, file.byteOffset);
  const config = file.subarray(MP_FLOATING_LENGTH);
  const cv = new DataView(config.buffer, config.byteOffset);
  const count = cv.getUint16(34, true);
  const entries: Entry[] = [];
  let at = MP_CONFIG_HEADER_LENGTH;
  for (let i = 0; i < count; i++) {
    const size = config[at] === MP_PROCESSOR ? 20 : 8;
    entries.push({ type: config[at], bytes: config.subarray(at, at + size) });
    at += size;
  }
  return { pointer: v.getUint32(4, true), length: cv.getUint16(4, true), entries, end: at, config };
}

const ioInts = (entries: Entry[], type = MP_IO_INTERRUPT) => entries.filter((e) => e.type === type).map((e) => ({
  kind: e.bytes[1], flags: e.bytes[2] | (e.bytes[3] << 8), bus: e.bytes[4], busIrq: e.bytes[5], dest: e.bytes[6], pin: e.bytes[7],
}));

describe('MP table', () => {
  const board = describeBoard({ acpi: false, apic: true, vcpus: 2, ramBytesBelow4G: 1 << 28 });
  const file = buildMpTable(board);
  const t = parse(file);

  it('has a floating pointer and configuration table with correct checksums and lengths', () => {
    expect(String.fromCharCode(...file.subarray(0, 4))).toBe('_MP_');
    expect(file[8]).toBe(1);
    expect(file[9]).toBe(4);
    expect(byteSum(file, 0, 16)).toBe(0);
    expect(t.pointer).toBe(16);
    expect(String.fromCharCode(...t.config.subarray(0, 4))).toBe('PCMP');
    expect(t.length).toBe(file.length - 16);
    expect(t.end).toBe(t.length);
    expect(byteSum(t.config)).toBe(0);
    expect(new DataView(t.config.slice().buffer).getUint32(36, true)).toBe(0xfee00000);
  });

  it('lists entries in the specification order: processors, buses, I/O APIC, I/O and local interrupts', () => {
    const order = t.entries.map((e) => e.type);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    const cpus = t.entries.filter((e) => e.type === MP_PROCESSOR);
    expect(cpus.map((c) => [c.bytes[1], c.bytes[3]])).toEqual([[0, 0x03], [1, 0x01]]);
    expect(new DataView(cpus[0].bytes.slice().buffer).getUint32(4, true)).toBe(0x683);
    expect(new DataView(cpus[0].bytes.slice().buffer).getUint32(8, true) & (1 << 9)).toBeTruthy();
    const buses = t.entries.filter((e) => e.type === MP_BUS).map((e) => [e.bytes[1], String.fromCharCode(...e.bytes.subarray(2, 8))]);
    expect(buses).toEqual([[MP_PCI_BUS_ID, 'PCI   '], [MP_ISA_BUS_ID, 'ISA   ']]);
    const io = t.entries.filter((e) => e.type === MP_IO_APIC);
    expect(io.length).toBe(1);
    expect([io[0].bytes[1], io[0].bytes[3]]).toEqual([board.ioApic!.id, 1]);
  });

  it('routes ISA IRQ 0 to pin 2, no I/O ExtINT entry, no IRQ 2, PCI INTx to pins 16-19', () => {
    const ints = ioInts(t.entries);
    const isa = ints.filter((i) => i.bus === MP_ISA_BUS_ID && i.kind === MP_INT);
    expect(isa.find((i) => i.busIrq === 0)!.pin).toBe(2);
    expect(isa.find((i) => i.busIrq === 2)).toBeUndefined();
    expect(isa.find((i) => i.busIrq === 4)!.pin).toBe(4);
    expect(isa.find((i) => i.busIrq === 10)!.flags).toBe(MP_LEVEL_HIGH);
    // acpi=0: IRQ 9 is an ordinary ISA IRQ.
    expect(isa.find((i) => i.busIrq === 9)!.flags).toBe(0);
    expect(ints.find((i) => i.kind === MP_EXTINT)).toBeUndefined();
    const pci = ints.filter((i) => i.bus === MP_PCI_BUS_ID);
    expect(pci.length).toBe(31 * 4);
    // Slot 2 INTA# -> PIRQC -> pin 18; slot 1 INTA# -> PIRQB -> pin 17 (no SCI with acpi=0).
    expect(pci.find((i) => i.busIrq === (2 << 2))!.pin).toBe(18);
    expect(pci.find((i) => i.busIrq === (1 << 2))!.pin).toBe(17);
    const locals = ioInts(t.entries, MP_LOCAL_INTERRUPT);
    expect(locals).toEqual([
      { kind: MP_EXTINT, flags: 0, bus: MP_ISA_BUS_ID, busIrq: 0, dest: 0, pin: 0 },
      { kind: MP_NMI, flags: 0, bus: MP_ISA_BUS_ID, busIrq: 0, dest: 0xff, pin: 1 },
    ]);
  });

  it('with ACPI, slot 1 INTA# is the SCI on pin 9, level high', () => {
    const acpiBoard = describeBoard({ acpi: true, apic: true, vcpus: 1, ramBytesBelow4G: 1 << 28 });
    const pci = ioInts(parse(buildMpTable(acpiBoard)).entries).filter((i) => i.bus === MP_PCI_BUS_ID);
    expect(pci.find((i) => i.busIrq === 1 << 2)).toMatchObject({ pin: 9, flags: MP_LEVEL_HIGH });
  });

  it('has loader commands for the F segment, and none for a board without APICs', () => {
    const commands = mpTableLoaderCommands(file);
    expect(commands[0]).toEqual({ command: 'allocate', file: MP_TABLE_FILE, align: 16, zone: 2 });
    expect(commands[1]).toMatchObject({ command: 'add-pointer', offset: 4, size: 4 });
    expect(commands.filter((c) => c.command === 'add-checksum').length).toBe(2);
    expect(() => buildMpTable(describeBoard({ acpi: true, apic: false, vcpus: 1, ramBytesBelow4G: 1 << 28 }))).toThrow(RangeError);
  });
});
