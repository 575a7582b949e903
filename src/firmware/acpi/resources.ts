/**
 * ACPI resource descriptors, the bytes inside a ResourceTemplate (ACPI 2.0 section 6.4, "Resource
 * Data Types for ACPI"): the small IRQ, DMA, I/O port and End Tag descriptors and the large
 * Word/DWord address space and Extended Interrupt descriptors. Only what this board's DSDT uses.
 */
import { buffer, concat, type Aml } from './aml-encoder.ts';

export type ResourceDescriptor = Uint8Array;

function u16(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff];
}
function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}

function irqMask(irqs: readonly number[]): number {
  let mask = 0;
  for (const irq of irqs) {
    if (!Number.isInteger(irq) || irq < 0 || irq > 15) throw new RangeError(`ISA IRQ ${irq} is not 0-15`);
    mask |= 1 << irq;
  }
  return mask;
}

/** IRQNoFlags() {irqs}: ISA edge-triggered, active high, exclusive (small item 0x04, length 2). */
export function irqNoFlags(irqs: readonly number[]): ResourceDescriptor {
  const mask = irqMask(irqs);
  return Uint8Array.of(0x22, mask & 0xff, mask >>> 8);
}

/** I/O port range with 16-bit decode, fixed at `base` (small item 0x08). */
export function ioPort(base: number, length: number, alignment = 1): ResourceDescriptor {
  if (base < 0 || base > 0xffff || length < 0 || length > 0xff) throw new RangeError(`I/O range 0x${base.toString(16)}+${length} does not fit an IO descriptor`);
  return Uint8Array.of(0x47, 0x01, ...u16(base), ...u16(base), alignment, length);
}

/** DMA(Compatibility, NotBusMaster, Transfer8) {channels} (small item 0x05). */
export function dma8(channels: readonly number[]): ResourceDescriptor {
  let mask = 0;
  for (const ch of channels) {
    if (!Number.isInteger(ch) || ch < 0 || ch > 7) throw new RangeError(`DMA channel ${ch} is not 0-7`);
    mask |= 1 << ch;
  }
  return Uint8Array.of(0x2a, mask, 0x00);
}

export interface InterruptFlags {
  /** false: level-triggered. */
  edge: boolean;
  activeLow: boolean;
  shared: boolean;
}

/**
 * Interrupt(ResourceConsumer, ...) {numbers} (large item 0x09): 32-bit interrupt numbers, which
 * are ISA IRQs in PIC mode and global system interrupts in APIC mode. The interrupt number of the
 * first entry sits at byte 5 of the descriptor (the link devices' _CRS patches it there).
 */
export function extendedInterrupt(flags: InterruptFlags, numbers: readonly number[]): ResourceDescriptor {
  if (numbers.length === 0 || numbers.length > 255) throw new RangeError('an Interrupt descriptor lists 1-255 interrupts');
  const f = 0x01 | (flags.edge ? 0x02 : 0) | (flags.activeLow ? 0x04 : 0) | (flags.shared ? 0x08 : 0);
  const body = [f, numbers.length, ...numbers.flatMap(u32)];
  return Uint8Array.of(0x89, ...u16(body.length), ...body);
}

/** Offset of the first interrupt number inside an extendedInterrupt descriptor. */
export const EXTENDED_INTERRUPT_NUMBER_OFFSET = 5;

// General flags of the address space descriptors (ACPI 2.0 section 6.4.3.5).
const PRODUCER_MIN_MAX_FIXED = 0x0c;

/** WordBusNumber(ResourceProducer, MinFixed, MaxFixed, PosDecode) for buses min-max. */
export function wordBusNumber(min: number, max: number): ResourceDescriptor {
  const body = [0x02, PRODUCER_MIN_MAX_FIXED, 0x00, ...u16(0), ...u16(min), ...u16(max), ...u16(0), ...u16(max - min + 1)];
  return Uint8Array.of(0x88, ...u16(body.length), ...body);
}

/** WordIO(ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange) for ports min-max. */
export function wordIo(min: number, max: number): ResourceDescriptor {
  const body = [0x01, PRODUCER_MIN_MAX_FIXED, 0x03, ...u16(0), ...u16(min), ...u16(max), ...u16(0), ...u16(max - min + 1)];
  return Uint8Array.of(0x88, ...u16(body.length), ...body);
}

/** DWordMemory(ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite) for min-max. */
export function dwordMemory(min: number, max: number): ResourceDescriptor {
  const body = [0x00, PRODUCER_MIN_MAX_FIXED, 0x03, ...u32(0), ...u32(min), ...u32(max), ...u32(0), ...u32(max - min + 1)];
  return Uint8Array.of(0x87, ...u16(body.length), ...body);
}

/** Memory32Fixed(ReadWrite or ReadOnly, base, length) (large item 0x06). */
export function memory32Fixed(base: number, length: number, writable: boolean): ResourceDescriptor {
  return Uint8Array.of(0x86, ...u16(9), writable ? 1 : 0, ...u32(base), ...u32(length));
}

/**
 * ResourceTemplate() { descriptors }: a Buffer ending with an End Tag whose checksum byte is 0
 * ("the checksum is treated as correct").
 */
export function resourceTemplate(...descriptors: ResourceDescriptor[]): Aml {
  return buffer(concat(...descriptors, [0x79, 0x00]));
}
