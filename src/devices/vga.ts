/**
 * The "standard VGA" that QEMU shows with `-vga std`: an IBM VGA register set with the Bochs VBE
 * extension, as PCI device 1234:1111 with 16 MiB of video memory, a linear framebuffer BAR and
 * QEMU's MMIO register BAR.
 *
 * Followed: IBM VGA Technical Reference / FreeVGA register descriptions for the sequencer,
 * graphics controller, attribute controller (index/data flip-flop reset by reading Input Status
 * 1), CRT controller (write protect of CR00-CR07 by CR11 bit 7, except the line compare bit of
 * CR07), DAC (separate read/write indexes, three-step auto-increment), Misc Output (I/O address
 * select between 0x3Bx and 0x3Dx, RAM enable), the legacy memory window decoded by GR06; the
 * Bochs VBE interface (bochs-vbe.ts); QEMU's stdvga PCI identity and BAR2 layout
 * (0x400-0x41F VGA ports 0x3C0-0x3DF, 0x500-0x515 VBE registers, 0x600 extended registers).
 *
 * Left out: light pen, the vertical retrace interrupt (IRQ 2 on old cards; QEMU does not raise
 * it either), the EDID blob in BAR2 (reads as all ones, so drivers fall back to their defaults),
 * big-endian framebuffer mode, and real video timing: Input Status 1 retrace bits follow a
 * nominal 31.78 us line and the CRTC's vertical total, not the programmed clocks.
 *
 * Video memory is owned by the machine (it lives in the shared memory and is part of its memory
 * snapshot), so saveState does not include it.
 */
import { type AccessSize, openBus } from '../bus/access-range.ts';
import type { Clock } from '../bus/clock.ts';
import { type Device, type DeviceState, checkStateVersion } from '../bus/device.ts';
import type { IoBus } from '../bus/io-bus.ts';
import type { MmioMap } from '../bus/mmio-map.ts';
import type { PciFunction, PciFunctionInfo } from '../bus/pci.ts';
import { BochsVbe, VBE_INDEX_BANK, VBE_INDEX_VIRT_WIDTH, VBE_INDEX_X_OFFSET, VBE_INDEX_XRES, VBE_INDEX_Y_OFFSET, VBE_INDEX_YRES, VBE_REGISTER_COUNT } from './bochs-vbe.ts';
import { VgaChangeLog, type VgaChanges } from './vga-change-log.ts';
import type { VgaDisplayState } from './vga-display-state.ts';
import { VgaPlanarMemory } from './vga-memory.ts';

export type { VgaDisplayState } from './vga-display-state.ts';
export type { VgaChanges } from './vga-change-log.ts';

export interface StdVgaOptions {
  io: IoBus;
  mmio: MmioMap;
  clock: Clock;
  /** Video memory (16 MiB on QEMU), 4-byte aligned, a power of two of at least 256 KiB. */
  vram: Uint8Array;
  /** The VGA BIOS image (vgabios-stdvga.bin), exposed as the PCI expansion ROM. */
  rom?: Uint8Array;
}

export const STDVGA_VENDOR_ID = 0x1234;
export const STDVGA_DEVICE_ID = 0x1111;
const LEGACY_WINDOW_BASE = 0xa0000;
const LEGACY_WINDOW_LENGTH = 0x20000;
const MMIO_BAR_SIZE = 0x1000;

const SEQUENCER_COUNT = 5;
const GRAPHICS_COUNT = 9;
const ATTRIBUTE_COUNT = 0x15;
const CRTC_COUNT = 0x19;

// Writable bits of each register (reserved bits read back as 0, as on the IBM VGA).
const SEQUENCER_MASK = [0x03, 0x3d, 0x0f, 0x3f, 0x0e];
const GRAPHICS_MASK = [0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff];
const ATTRIBUTE_MASK = [...new Array(16).fill(0x3f), 0xef, 0xff, 0x3f, 0x0f, 0x0f];
/** Sequencer registers the scan-out reads: SR01 (dot clock, screen off) and SR03 (fonts). */
const SEQUENCER_SHOWN = [false, true, false, true, false];
/** Graphics registers the scan-out reads: GR05 (shift modes) and GR06 (text/graphics). */
const GRAPHICS_SHOWN = [false, false, false, false, false, true, true, false, false];
/** CRTC cursor start/end and location: a change touches the old and new cursor cells only. */
const CRTC_CURSOR = new Set([0x0a, 0x0b, 0x0e, 0x0f]);

/** Nominal horizontal line time of the VGA 25.175 MHz modes (800 dots). */
const LINE_NS = 31_778;
/** Share of the line spent in horizontal blanking, where Input Status 1 bit 0 reads 1. */
const HBLANK_FROM_NS = 25_422;
/** Guest time Input Status 1 pretends has passed when polled twice at the same clock time. */
const POLL_STEP_NS = 1_000;

export class StdVga implements Device {
  readonly name = 'vga';
  /** Plug this into the PCI bus. */
  readonly pci: PciFunction;

  private readonly io: IoBus;
  private readonly mmio: MmioMap;
  private readonly clock: Clock;
  private readonly vram: Uint8Array;
  private readonly memory: VgaPlanarMemory;
  private readonly vbe: BochsVbe;
  private readonly changes: VgaChangeLog;

  private readonly sequencer = new Uint8Array(SEQUENCER_COUNT);
  private readonly graphics = new Uint8Array(GRAPHICS_COUNT);
  private readonly attribute = new Uint8Array(ATTRIBUTE_COUNT);
  private readonly crtc = new Uint8Array(CRTC_COUNT);
  private readonly palette = new Uint8Array(768);
  private sequencerIndex = 0;
  private graphicsIndex = 0;
  private attributeIndex = 0;
  /** false: the next write to 0x3C0 is an index; true: it is data. */
  private attributeFlipFlop = false;
  private crtcIndex = 0;
  private miscOutput = 0;
  private featureControl = 0;
  private dacMask = 0xff;
  private dacReadIndex = 0;
  private dacWriteIndex = 0;
  /** Which component (0-2) of the current entry the next data access moves. */
  private dacComponent = 0;
  /** 0: last index written was the write index (status 00), 3: the read index (status 11). */
  private dacState = 0;
  private readonly dacLatch = new Uint8Array(3);
  private generation = 0;
  /** See statusOne(): extra guest time credited to back-to-back polls at one clock time. */
  private pollSkewNs = 0;
  private lastPollNs = -1;

  constructor(options: StdVgaOptions) {
    const { io, mmio, clock, vram } = options;
    const size = vram.length;
    if (size < 0x40000 || (size & (size - 1)) !== 0) {
      throw new Error(`VGA: video memory of ${size} bytes is not a power of two of at least 256 KiB`);
    }
    this.io = io;
    this.mmio = mmio;
    this.clock = clock;
    this.vram = vram;
    this.changes = new VgaChangeLog(size / 4);
    this.memory = new VgaPlanarMemory(vram, this.changes);
    this.vbe = new BochsVbe(vram);

    const owner = this.name;
    io.register({ owner, base: 0x3c0, length: 16, read: (o) => this.readPort(0x3c0 + o), write: (o, _s, v) => this.writePort(0x3c0 + o, v) });
    io.register({ owner, base: 0x3b4, length: 2, read: (o) => this.readPort(0x3b4 + o), write: (o, _s, v) => this.writePort(0x3b4 + o, v) });
    io.register({ owner, base: 0x3ba, length: 1, read: () => this.readPort(0x3ba), write: (_o, _s, v) => this.writePort(0x3ba, v) });
    io.register({ owner, base: 0x3d4, length: 2, read: (o) => this.readPort(0x3d4 + o), write: (o, _s, v) => this.writePort(0x3d4 + o, v) });
    io.register({ owner, base: 0x3da, length: 1, read: () => this.readPort(0x3da), write: (_o, _s, v) => this.writePort(0x3da, v) });
    // 0x1CE index, 0x1CF data; 0x1D0 is a second data port (older Bochs BIOSes use it), so the
    // range reaches 0x1D1 for a word access there.
    io.register({ owner: 'vga-vbe', base: 0x1ce, length: 4, sizes: 1 | 2, read: (o, s) => this.readVbe(o, s), write: (o, s, v) => this.writeVbe(o, s, v) });
    mmio.register({
      owner,
      base: LEGACY_WINDOW_BASE,
      length: LEGACY_WINDOW_LENGTH,
      read: (o) => this.readWindow(o),
      write: (o, _s, v) => this.writeWindow(o, v),
    });

    const info: PciFunctionInfo = {
      vendorId: STDVGA_VENDOR_ID,
      deviceId: STDVGA_DEVICE_ID,
      classCode: 0x030000,
      revision: 2,
      subsystemVendorId: 0x1af4,
      subsystemId: 0x1100,
      interruptPin: 0,
      bars: [
        {
          kind: 'memory',
          size,
          prefetchable: true,
          backing: vram,
          range: { owner: 'vga-lfb', sizes: 1 | 2 | 4, read: (o, s) => this.readLinear(o, s), write: (o, s, v) => this.writeLinear(o, s, v) },
        },
        undefined,
        {
          kind: 'memory',
          size: MMIO_BAR_SIZE,
          range: { owner: 'vga-mmio', sizes: 1 | 2 | 4, read: (o, s) => this.readMmioBar(o, s), write: (o, s, v) => this.writeMmioBar(o, s, v) },
        },
      ],
      rom: options.rom,
    };
    this.pci = { info, config: new Uint8Array(256) };
    this.reset();
  }

  reset(): void {
    this.sequencer.fill(0);
    this.graphics.fill(0);
    this.attribute.fill(0);
    this.crtc.fill(0);
    this.palette.fill(0);
    this.sequencerIndex = this.graphicsIndex = this.attributeIndex = this.crtcIndex = 0;
    this.attributeFlipFlop = false;
    this.miscOutput = 0;
    this.featureControl = 0;
    this.dacMask = 0xff;
    this.dacReadIndex = this.dacWriteIndex = this.dacComponent = this.dacState = 0;
    this.dacLatch.fill(0);
    this.memory.latch = 0;
    this.vbe.reset();
    this.pollSkewNs = 0;
    this.lastPollNs = -1;
    this.generation++;
    this.changes.markRegisters();
  }

  /** What the renderer needs, as a fresh plain-data copy (safe to post to another thread). */
  displayState(): VgaDisplayState {
    const r = this.vbe.registers;
    return {
      sequencer: this.sequencer.slice(),
      graphics: this.graphics.slice(),
      attribute: this.attribute.slice(),
      crtc: this.crtc.slice(),
      miscOutput: this.miscOutput,
      attributeIndex: this.attributeIndex,
      dacMask: this.dacMask,
      palette: this.palette.slice(),
      dac8bit: this.vbe.dac8bit,
      vbe: {
        enabled: this.vbe.enabled,
        xres: r[VBE_INDEX_XRES],
        yres: r[VBE_INDEX_YRES],
        bpp: this.vbe.bpp,
        virtWidth: r[VBE_INDEX_VIRT_WIDTH],
        xOffset: r[VBE_INDEX_X_OFFSET],
        yOffset: r[VBE_INDEX_Y_OFFSET],
      },
      timeNs: this.clock.now(),
      generation: this.generation,
      scanoutIsLinearFramebuffer: this.vbe.enabled,
    };
  }

  /** Cheap change check for a viewer: differs from the last value whenever the picture may have. */
  get changeCounter(): number {
    return this.generation;
  }

  /**
   * What changed on screen since the epoch `since` (0 on a viewer's first look): memory the card
   * wrote, register and cursor changes. See vga-change-log.ts.
   */
  changesSince(since: number): VgaChanges {
    return this.changes.changesSince(since);
  }

  saveState(): DeviceState {
    return {
      version: 1,
      sequencer: this.sequencer.slice(),
      graphics: this.graphics.slice(),
      attribute: this.attribute.slice(),
      crtc: this.crtc.slice(),
      palette: this.palette.slice(),
      sequencerIndex: this.sequencerIndex,
      graphicsIndex: this.graphicsIndex,
      attributeIndex: this.attributeIndex,
      attributeFlipFlop: this.attributeFlipFlop,
      crtcIndex: this.crtcIndex,
      miscOutput: this.miscOutput,
      featureControl: this.featureControl,
      dacMask: this.dacMask,
      dacReadIndex: this.dacReadIndex,
      dacWriteIndex: this.dacWriteIndex,
      dacComponent: this.dacComponent,
      dacState: this.dacState,
      dacLatch: this.dacLatch.slice(),
      latch: this.memory.latch,
      vbeIndex: this.vbe.index,
      vbeRegisters: this.vbe.registers.slice(),
      pollSkewNs: this.pollSkewNs,
      lastPollNs: this.lastPollNs,
    };
  }

  loadState(state: DeviceState): void {
    checkStateVersion(this.name, state, 1);
    const bytes = (field: string, into: Uint8Array) => {
      const v = state[field];
      if (!(v instanceof Uint8Array || Array.isArray(v)) || v.length !== into.length) {
        throw new Error(`${this.name}: saved field ${field} is missing or has the wrong length`);
      }
      into.set(v as ArrayLike<number>);
    };
    const num = (field: string) => Number(state[field] ?? 0) >>> 0;
    bytes('sequencer', this.sequencer);
    bytes('graphics', this.graphics);
    bytes('attribute', this.attribute);
    bytes('crtc', this.crtc);
    bytes('palette', this.palette);
    bytes('dacLatch', this.dacLatch);
    const vbe = state.vbeRegisters;
    if (!(vbe instanceof Uint16Array || Array.isArray(vbe)) || vbe.length !== VBE_REGISTER_COUNT) {
      throw new Error(`${this.name}: saved field vbeRegisters is missing or has the wrong length`);
    }
    this.vbe.registers.set(vbe as ArrayLike<number>);
    this.vbe.index = num('vbeIndex') & 0xffff;
    this.sequencerIndex = num('sequencerIndex') & 7;
    this.graphicsIndex = num('graphicsIndex') & 0x0f;
    this.attributeIndex = num('attributeIndex') & 0x3f;
    this.attributeFlipFlop = state.attributeFlipFlop === true;
    this.crtcIndex = num('crtcIndex') & 0xff;
    this.miscOutput = num('miscOutput') & 0xff;
    this.featureControl = num('featureControl') & 0xff;
    this.dacMask = num('dacMask') & 0xff;
    this.dacReadIndex = num('dacReadIndex') & 0xff;
    this.dacWriteIndex = num('dacWriteIndex') & 0xff;
    this.dacComponent = num('dacComponent') % 3;
    this.dacState = num('dacState') & 3;
    this.memory.latch = num('latch');
    this.pollSkewNs = Number(state.pollSkewNs ?? 0) || 0;
    this.lastPollNs = Number(state.lastPollNs ?? -1);
    this.generation++;
    // Video memory comes back with the machine's memory snapshot: repaint everything.
    this.changes.markRegisters();
  }

  // ---- VGA ports -------------------------------------------------------------------------

  /** The CRTC and status ports answer at 0x3Dx (colour) or 0x3Bx (mono) per Misc Output bit 0. */
  private portIsDecoded(port: number): boolean {
    const color = (this.miscOutput & 1) !== 0;
    if ((port & 0xfff0) === 0x3b0) return !color;
    if ((port & 0xfff0) === 0x3d0) return color;
    return true;
  }

  private readPort(port: number): number {
    if (!this.portIsDecoded(port)) return 0xff;
    switch (port) {
      case 0x3c0:
        return this.attributeIndex;
      case 0x3c1: {
        const i = this.attributeIndex & 0x1f;
        return i < ATTRIBUTE_COUNT ? this.attribute[i] : 0;
      }
      case 0x3c2:
        return 0; // Input Status 0: no switch sense, no retrace interrupt pending.
      case 0x3c4:
        return this.sequencerIndex;
      case 0x3c5:
        return this.sequencerIndex < SEQUENCER_COUNT ? this.sequencer[this.sequencerIndex] : 0xff;
      case 0x3c6:
        return this.dacMask;
      case 0x3c7:
        return this.dacState;
      case 0x3c8:
        return this.dacWriteIndex;
      case 0x3c9: {
        const v = this.palette[this.dacReadIndex * 3 + this.dacComponent];
        if (++this.dacComponent === 3) {
          this.dacComponent = 0;
          this.dacReadIndex = (this.dacReadIndex + 1) & 0xff;
        }
        return v;
      }
      case 0x3ca:
        return this.featureControl;
      case 0x3cc:
        return this.miscOutput;
      case 0x3ce:
        return this.graphicsIndex;
      case 0x3cf:
        return this.graphicsIndex < GRAPHICS_COUNT ? this.graphics[this.graphicsIndex] : 0xff;
      case 0x3b4:
      case 0x3d4:
        return this.crtcIndex;
      case 0x3b5:
      case 0x3d5:
        return this.crtcIndex < CRTC_COUNT ? this.crtc[this.crtcIndex] : 0xff;
      case 0x3ba:
      case 0x3da:
        this.attributeFlipFlop = false;
        return this.statusOne();
      default:
        return 0xff;
    }
  }

  private writePort(port: number, value: number): void {
    if (!this.portIsDecoded(port)) return;
    value &= 0xff;
    this.generation++;
    switch (port) {
      case 0x3c0:
        if (!this.attributeFlipFlop) {
          // Bit 5 (palette address source) turns the picture on and off.
          if ((this.attributeIndex ^ value) & 0x20) this.changes.markRegisters();
          this.attributeIndex = value & 0x3f;
        } else {
          const i = this.attributeIndex & 0x1f;
          if (i < ATTRIBUTE_COUNT) this.setShown(this.attribute, i, value & ATTRIBUTE_MASK[i], true);
        }
        this.attributeFlipFlop = !this.attributeFlipFlop;
        break;
      case 0x3c2:
        if (this.miscOutput !== value) this.changes.markRegisters();
        this.miscOutput = value;
        break;
      case 0x3c4:
        this.sequencerIndex = value & 7;
        break;
      case 0x3c5:
        if (this.sequencerIndex < SEQUENCER_COUNT) {
          const i = this.sequencerIndex;
          this.setShown(this.sequencer, i, value & SEQUENCER_MASK[i], SEQUENCER_SHOWN[i]);
        }
        break;
      case 0x3c6:
        if (this.dacMask !== value) this.changes.markRegisters();
        this.dacMask = value;
        break;
      case 0x3c7:
        this.dacReadIndex = value;
        this.dacComponent = 0;
        this.dacState = 3;
        break;
      case 0x3c8:
        this.dacWriteIndex = value;
        this.dacComponent = 0;
        this.dacState = 0;
        break;
      case 0x3c9:
        // The three components are collected and stored together, as the DAC does.
        this.dacLatch[this.dacComponent] = this.vbe.dac8bit ? value : value & 0x3f;
        if (++this.dacComponent === 3) {
          const at = this.dacWriteIndex * 3;
          const p = this.palette;
          if (p[at] !== this.dacLatch[0] || p[at + 1] !== this.dacLatch[1] || p[at + 2] !== this.dacLatch[2]) this.changes.markRegisters();
          this.palette.set(this.dacLatch, at);
          this.dacComponent = 0;
          this.dacWriteIndex = (this.dacWriteIndex + 1) & 0xff;
        }
        break;
      case 0x3ce:
        this.graphicsIndex = value & 0x0f;
        break;
      case 0x3cf:
        if (this.graphicsIndex < GRAPHICS_COUNT) {
          const i = this.graphicsIndex;
          this.setShown(this.graphics, i, value & GRAPHICS_MASK[i], GRAPHICS_SHOWN[i]);
        }
        break;
      case 0x3b4:
      case 0x3d4:
        this.crtcIndex = value;
        break;
      case 0x3b5:
      case 0x3d5:
        this.writeCrtc(this.crtcIndex, value);
        break;
      case 0x3ba:
      case 0x3da:
        this.featureControl = value & 0x03;
        break;
      default:
        break; // 0x3C1 is read-only, 0x3C3/0x3CB/0x3CD are not decoded.
    }
  }

  private writeCrtc(index: number, value: number): void {
    if (index >= CRTC_COUNT) return;
    if (index <= 7 && this.crtc[0x11] & 0x80) {
      // Protected: only the line compare bit 8 (CR07 bit 4) stays writable.
      if (index === 7) this.setShown(this.crtc, 7, (this.crtc[7] & ~0x10) | (value & 0x10), true);
      return;
    }
    if (CRTC_CURSOR.has(index)) {
      if (this.crtc[index] !== value) this.changes.markCursor();
      this.crtc[index] = value;
      return;
    }
    this.setShown(this.crtc, index, value, true);
  }

  /** Store a register; if the scan-out reads it (`shown`) and the value differs, the picture changed. */
  private setShown(registers: Uint8Array, index: number, value: number, shown: boolean): void {
    if (shown && registers[index] !== value) this.changes.markRegisters();
    registers[index] = value;
  }

  /**
   * Input Status 1: bit 3 vertical retrace, bit 0 "display disabled" (horizontal or vertical
   * blanking), both derived from guest time. A guest that polls faster than the clock advances
   * (the clock may move only between CPU time slices) would spin forever, so each poll at an
   * unchanged clock time counts as 1 us of extra guest time for this register alone; that
   * depends only on what the guest does, so deterministic runs stay deterministic.
   */
  private statusOne(): number {
    const now = this.clock.now();
    if (now === this.lastPollNs) this.pollSkewNs += POLL_STEP_NS;
    this.lastPollNs = now;
    const t = now + this.pollSkewNs;
    const timing = this.frameTiming();
    const lineInFrame = Math.floor(t / LINE_NS) % timing.totalLines;
    const inLine = t % LINE_NS;
    const vretrace = lineInFrame >= timing.retraceStart && lineInFrame < timing.retraceStart + 2;
    const blank = lineInFrame >= timing.displayLines || inLine >= HBLANK_FROM_NS;
    return (vretrace ? 0x08 : 0) | (blank ? 0x01 : 0);
  }

  private frameTiming(): { totalLines: number; displayLines: number; retraceStart: number } {
    const c = this.crtc;
    const overflow = c[7];
    const total = c[6] + ((overflow & 0x01) << 8) + ((overflow & 0x20) << 4) + 2;
    let display = c[0x12] + ((overflow & 0x02) << 7) + ((overflow & 0x40) << 3) + 1;
    let retrace = c[0x10] + ((overflow & 0x04) << 6) + ((overflow & 0x80) << 2);
    if (this.vbe.enabled) display = this.vbe.registers[VBE_INDEX_YRES];
    // Unprogrammed or nonsensical timings fall back to the 70 Hz 400-line frame.
    if (total < 100 || display >= total) return { totalLines: 449, displayLines: 400, retraceStart: 412 };
    if (retrace < display || retrace + 2 > total) retrace = display + Math.min(10, total - display - 2);
    return { totalLines: total, displayLines: display, retraceStart: Math.max(display, retrace) };
  }

  // ---- Legacy memory window 0xA0000-0xBFFFF ---------------------------------------------

  /** Offset inside the window selected by GR06 bits 2-3, or -1 if `offset` is outside it. */
  private windowOffset(offset: number): number {
    if (!(this.miscOutput & 0x02)) return -1; // Misc Output RAM enable off: the card ignores the CPU.
    switch ((this.graphics[6] >> 2) & 3) {
      case 0:
        return offset;
      case 1:
        return offset < 0x10000 ? offset : -1;
      case 2:
        return offset >= 0x10000 && offset < 0x18000 ? offset - 0x10000 : -1;
      default:
        return offset >= 0x18000 ? offset - 0x18000 : -1;
    }
  }

  private readWindow(offset: number): number {
    if (this.vbe.enabled) {
      if (offset >= 0x10000) return 0xff;
      if (this.vbe.bpp === 4) return this.memory.read(this.sequencer, this.graphics, offset, this.vbe.bank << 16);
      return this.vram[((this.vbe.bank << 16) + offset) % this.vram.length];
    }
    const o = this.windowOffset(offset);
    return o < 0 ? 0xff : this.memory.read(this.sequencer, this.graphics, o);
  }

  private writeWindow(offset: number, value: number): void {
    if (this.vbe.enabled) {
      // The VBE bank window: 64 KiB of video memory at BANK * 64 KiB, at 0xA0000.
      if (offset >= 0x10000) return;
      if (this.vbe.bpp === 4) {
        this.memory.write(this.sequencer, this.graphics, offset, value, this.vbe.bank << 16);
      } else {
        const at = ((this.vbe.bank << 16) + offset) % this.vram.length;
        if (this.vram[at] !== (value & 0xff)) {
          this.vram[at] = value;
          this.changes.markBytes(at, at + 1);
        }
      }
      this.generation++;
      return;
    }
    const o = this.windowOffset(offset);
    if (o < 0) return;
    this.memory.write(this.sequencer, this.graphics, o, value);
    this.generation++;
  }

  // ---- VBE and PCI BARs -------------------------------------------------------------------

  /**
   * The VBE ports are 16-bit registers. A byte access to 0x1CE or a data port reaches the low
   * byte of the register (a byte write zero-extends); 0x1D1 alone is the high byte of the data.
   */
  private readVbe(offset: number, size: AccessSize): number {
    if (offset === 0) return size === 2 ? this.vbe.index : this.vbe.index & 0xff;
    const data = this.vbe.readData();
    if (offset === 3) return data >> 8;
    return size === 2 ? data : data & 0xff;
  }

  private writeVbe(offset: number, _size: AccessSize, value: number): void {
    if (offset === 0) this.vbe.index = value & 0xffff;
    else if (offset !== 3) this.writeVbeData(value);
    this.generation++;
  }

  /** A VBE data write; a change of anything but the bank (which only moves the CPU window) is a new picture. */
  private writeVbeData(value: number): void {
    const before = this.vbe.registers.slice();
    this.vbe.writeData(value);
    const after = this.vbe.registers;
    for (let i = 0; i < VBE_REGISTER_COUNT; i++) {
      if (i !== VBE_INDEX_BANK && before[i] !== after[i]) {
        this.changes.markRegisters();
        return;
      }
    }
  }

  /** BAR0 accesses that reach the device (only if the machine does not map `backing` directly). */
  private readLinear(offset: number, size: AccessSize): number {
    if (offset + size > this.vram.length) return openBus(size);
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.vram[offset + i];
    return v;
  }

  private writeLinear(offset: number, size: AccessSize, value: number): void {
    if (offset + size > this.vram.length) return;
    for (let i = 0; i < size; i++) this.vram[offset + i] = (value >>> (8 * i)) & 0xff;
    this.changes.markBytes(offset, offset + size);
    this.generation++;
  }

  /**
   * BAR2, QEMU's stdvga MMIO layout: 0x400-0x41F are ports 0x3C0-0x3DF (byte registers),
   * 0x500-0x515 the VBE registers as 16-bit words (register i at 0x500 + 2*i), 0x600 the size
   * of the extended register block (8) and 0x604 the framebuffer byte order (little endian).
   */
  private readMmioBar(offset: number, size: AccessSize): number {
    if (size === 4) return (this.readMmioBar(offset, 2) + this.readMmioBar(offset + 2, 2) * 0x10000) >>> 0;
    if (offset >= 0x400 && offset < 0x420) {
      if (size === 2) return this.readPort(0x3c0 + offset - 0x400) | (this.readMmioBar(offset + 1, 1) << 8);
      return this.readPort(0x3c0 + offset - 0x400);
    }
    if (offset >= 0x500 && offset < 0x500 + 2 * 0x0b) {
      const saved = this.vbe.index;
      this.vbe.index = (offset - 0x500) >> 1;
      const word = this.vbe.readData();
      this.vbe.index = saved;
      return size === 2 ? word : (word >> ((offset & 1) * 8)) & 0xff;
    }
    if (offset >= 0x600 && offset < 0x608) {
      const dword = offset < 0x604 ? 8 : 0x1e1e1e1e;
      return (dword >>> ((offset & 3) * 8)) & (size === 2 ? 0xffff : 0xff);
    }
    return openBus(size);
  }

  private writeMmioBar(offset: number, size: AccessSize, value: number): void {
    if (size === 4) {
      this.writeMmioBar(offset, 2, value & 0xffff);
      this.writeMmioBar(offset + 2, 2, value >>> 16);
      return;
    }
    if (offset >= 0x400 && offset < 0x420) {
      this.writePort(0x3c0 + offset - 0x400, value & 0xff);
      if (size === 2) this.writeMmioBar(offset + 1, 1, value >>> 8);
      return;
    }
    if (offset >= 0x500 && offset < 0x500 + 2 * 0x0b && size === 2 && !(offset & 1)) {
      const saved = this.vbe.index;
      this.vbe.index = (offset - 0x500) >> 1;
      this.writeVbeData(value);
      this.vbe.index = saved;
      this.generation++;
    }
    // Byte writes to VBE registers and writes to the byte-order register are ignored: the
    // framebuffer is always little endian.
  }
}
