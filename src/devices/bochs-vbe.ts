/**
 * The Bochs VBE "DISPI" register file (index port 0x1CE, data port 0x1CF), as implemented by
 * Bochs and QEMU's standard VGA and used by SeaVGABIOS (vgasrc/bochsvga.c), the Linux bochs-drm
 * driver and the Bochs/QEMU Windows display drivers. This file is the register semantics only;
 * the VGA device (vga.ts) owns the ports and decides what the registers do to the display.
 *
 * Behaviour followed: ID accepts 0xB0C0-0xB0C5 and reads back what was written (SeaVGABIOS checks
 * that), starting at 0xB0C5; XRES/YRES/BPP are stored as written while the interface is disabled
 * and checked when it is enabled (and on every later write while enabled); GETCAPS in ENABLE
 * makes XRES/YRES/BPP read their maxima; enabling clears the visible part of the framebuffer
 * unless NOCLEARMEM is set; VIRT_HEIGHT is derived from the memory size.
 * Left out: the Bochs-only 4bpp plane shift and the VBE_DISPI_INDEX_DDC extension.
 */

export const VBE_INDEX_ID = 0;
export const VBE_INDEX_XRES = 1;
export const VBE_INDEX_YRES = 2;
export const VBE_INDEX_BPP = 3;
export const VBE_INDEX_ENABLE = 4;
export const VBE_INDEX_BANK = 5;
export const VBE_INDEX_VIRT_WIDTH = 6;
export const VBE_INDEX_VIRT_HEIGHT = 7;
export const VBE_INDEX_X_OFFSET = 8;
export const VBE_INDEX_Y_OFFSET = 9;
export const VBE_INDEX_VIDEO_MEMORY_64K = 0xa;
/** Number of registers saved and restored (0x0-0x9; 0xA is computed). */
export const VBE_REGISTER_COUNT = 10;

export const VBE_ID0 = 0xb0c0;
export const VBE_ID5 = 0xb0c5;

export const VBE_ENABLED = 0x01;
export const VBE_GETCAPS = 0x02;
export const VBE_8BIT_DAC = 0x20;
export const VBE_LFB_ENABLED = 0x40;
export const VBE_NOCLEARMEM = 0x80;
const VBE_ENABLE_BITS = VBE_ENABLED | VBE_GETCAPS | VBE_8BIT_DAC | VBE_LFB_ENABLED | VBE_NOCLEARMEM;

export const VBE_MAX_XRES = 16000;
export const VBE_MAX_YRES = 12000;
export const VBE_MAX_BPP = 32;

const VALID_BPP = [4, 8, 15, 16, 24, 32];

export function vbeBytesPerLine(virtWidth: number, bpp: number): number {
  return bpp === 4 ? virtWidth >> 1 : virtWidth * ((bpp + 7) >> 3);
}

export class BochsVbe {
  readonly registers = new Uint16Array(VBE_REGISTER_COUNT);
  index = 0;

  constructor(private readonly vram: Uint8Array) {
    this.reset();
  }

  reset(): void {
    this.registers.fill(0);
    this.registers[VBE_INDEX_ID] = VBE_ID5;
    this.index = 0;
  }

  get enabled(): boolean {
    return (this.registers[VBE_INDEX_ENABLE] & VBE_ENABLED) !== 0;
  }

  get dac8bit(): boolean {
    return (this.registers[VBE_INDEX_ENABLE] & VBE_8BIT_DAC) !== 0;
  }

  get bank(): number {
    return this.registers[VBE_INDEX_BANK];
  }

  get bpp(): number {
    return this.registers[VBE_INDEX_BPP];
  }

  readData(): number {
    const i = this.index;
    const r = this.registers;
    if (r[VBE_INDEX_ENABLE] & VBE_GETCAPS) {
      if (i === VBE_INDEX_XRES) return VBE_MAX_XRES;
      if (i === VBE_INDEX_YRES) return VBE_MAX_YRES;
      if (i === VBE_INDEX_BPP) return VBE_MAX_BPP;
    }
    if (i === VBE_INDEX_VIDEO_MEMORY_64K) return Math.min(0xffff, this.vram.length >>> 16);
    return i < VBE_REGISTER_COUNT ? r[i] : 0;
  }

  writeData(value: number): void {
    value &= 0xffff;
    const r = this.registers;
    switch (this.index) {
      case VBE_INDEX_ID:
        if (value >= VBE_ID0 && value <= VBE_ID5) r[VBE_INDEX_ID] = value;
        break;
      case VBE_INDEX_XRES:
      case VBE_INDEX_YRES:
      case VBE_INDEX_BPP:
      case VBE_INDEX_VIRT_WIDTH:
      case VBE_INDEX_X_OFFSET:
      case VBE_INDEX_Y_OFFSET:
        r[this.index] = value;
        this.fixup();
        break;
      case VBE_INDEX_BANK:
        // Banks beyond the memory are dropped to the bits that exist; SeaVGABIOS reads the bank
        // back to detect an impossible window position.
        r[VBE_INDEX_BANK] = value & (Math.max(1, this.vram.length >>> 16) - 1);
        break;
      case VBE_INDEX_ENABLE: {
        const wasEnabled = this.enabled;
        r[VBE_INDEX_ENABLE] = value & VBE_ENABLE_BITS;
        if ((value & VBE_ENABLED) && !wasEnabled) {
          r[VBE_INDEX_VIRT_WIDTH] = 0;
          r[VBE_INDEX_X_OFFSET] = 0;
          r[VBE_INDEX_Y_OFFSET] = 0;
          this.fixup();
          if (!(value & VBE_NOCLEARMEM)) {
            const end = Math.min(this.vram.length, r[VBE_INDEX_YRES] * this.bytesPerLine());
            this.vram.fill(0, 0, end);
          }
        }
        break;
      }
      default:
        // VIRT_HEIGHT is derived and VIDEO_MEMORY_64K is read-only; other indexes do not exist.
        break;
    }
  }

  bytesPerLine(): number {
    return vbeBytesPerLine(this.registers[VBE_INDEX_VIRT_WIDTH], this.registers[VBE_INDEX_BPP]);
  }

  /** Brings the mode registers into a displayable, in-memory state (only while enabled). */
  private fixup(): void {
    const r = this.registers;
    if (!(r[VBE_INDEX_ENABLE] & VBE_ENABLED)) return;
    if (!VALID_BPP.includes(r[VBE_INDEX_BPP])) r[VBE_INDEX_BPP] = 8;
    const bpp = r[VBE_INDEX_BPP];

    let xres = r[VBE_INDEX_XRES] & ~7;
    if (xres === 0) xres = 8;
    if (xres > VBE_MAX_XRES) xres = VBE_MAX_XRES;
    r[VBE_INDEX_XRES] = xres;

    let virtWidth = r[VBE_INDEX_VIRT_WIDTH] & ~7;
    if (virtWidth > VBE_MAX_XRES) virtWidth = VBE_MAX_XRES;
    if (virtWidth < xres) virtWidth = xres;
    // A line longer than the whole memory cannot be shown; fall back to the visible width.
    if (vbeBytesPerLine(virtWidth, bpp) > this.vram.length) virtWidth = xres;
    r[VBE_INDEX_VIRT_WIDTH] = virtWidth;

    const lineBytes = vbeBytesPerLine(virtWidth, bpp);
    const maxLines = Math.max(1, Math.floor(this.vram.length / Math.max(1, lineBytes)));
    let yres = r[VBE_INDEX_YRES];
    if (yres === 0) yres = 1;
    if (yres > VBE_MAX_YRES) yres = VBE_MAX_YRES;
    if (yres > maxLines) yres = maxLines;
    r[VBE_INDEX_YRES] = yres;
    r[VBE_INDEX_VIRT_HEIGHT] = Math.min(0xffff, maxLines);

    if (r[VBE_INDEX_X_OFFSET] > virtWidth - xres) r[VBE_INDEX_X_OFFSET] = virtWidth - xres;
    if (r[VBE_INDEX_Y_OFFSET] > maxLines - yres) r[VBE_INDEX_Y_OFFSET] = maxLines - yres;
  }
}
