import { describe, expect, it } from 'vitest';
import {
  dma8, dwordMemory, extendedInterrupt, EXTENDED_INTERRUPT_NUMBER_OFFSET, ioPort, irqNoFlags, memory32Fixed, resourceTemplate, wordBusNumber, wordIo,
} from '../../../src/firmware/acpi/resources.ts';

const hex = (a: Uint8Array) => [...a].map((b) => b.toString(16).padStart(2, '0')).join(' ');

describe('resource descriptors', () => {
  it('encodes the small descriptors', () => {
    expect(hex(irqNoFlags([4]))).toBe('22 10 00');
    expect(hex(irqNoFlags([8, 12]))).toBe('22 00 11');
    expect(hex(ioPort(0x3f8, 8))).toBe('47 01 f8 03 f8 03 01 08');
    expect(hex(dma8([2]))).toBe('2a 04 00');
    expect(() => irqNoFlags([16])).toThrow(RangeError);
    expect(() => dma8([8])).toThrow(RangeError);
    expect(() => ioPort(0x10000, 1)).toThrow(RangeError);
  });
  it('encodes the large descriptors with their lengths', () => {
    const irq = extendedInterrupt({ edge: false, activeLow: false, shared: true }, [5, 10]);
    expect(hex(irq)).toBe('89 0a 00 09 02 05 00 00 00 0a 00 00 00');
    expect(irq[EXTENDED_INTERRUPT_NUMBER_OFFSET]).toBe(5);
    expect(wordBusNumber(0, 0xff).length).toBe(16);
    expect(wordIo(0x0d00, 0xffff).slice(-2)).toEqual(Uint8Array.of(0x00, 0xf3));
    const mem = dwordMemory(0xe0000000, 0xfebfffff);
    expect(mem.length).toBe(26);
    expect(new DataView(mem.buffer).getUint32(22, true)).toBe(0x1ec00000);
    expect(hex(memory32Fixed(0xfed00000, 0x400, false))).toBe('86 09 00 00 00 00 d0 fe 00 04 00 00');
    expect(() => extendedInterrupt({ edge: true, activeLow: false, shared: false }, [])).toThrow(RangeError);
  });
  it('ends a template with an End Tag inside a Buffer', () => {
    expect(hex(resourceTemplate(irqNoFlags([1])))).toBe('11 08 0a 05 22 02 00 79 00');
  });
});
