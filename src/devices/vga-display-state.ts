/**
 * What the VGA card tells a renderer about its scan-out: plain data, so it can be posted to the
 * page or handed to the command-line screenshot code. The renderer (src/display/) reads this and
 * the card's video memory; it never calls the device.
 *
 * Video memory layout (the renderer depends on it):
 * - VGA planar memory: byte `offset` of plane `p` (0-3) lives at `vram[offset * 4 + p]`, so the
 *   four planes of one address are one little-endian dword. Plane offsets are the addresses the
 *   hardware's memory sequencer sees: in text mode (odd/even) character cell i is at plane offset
 *   2*i (plane 0 = code, plane 1 = attribute, plane 2 = font); in chain-4 (mode 13h) CPU byte A
 *   is plane A&3 at offset A&~3, which is why mode 13h uses only every fourth plane address.
 * - Bochs VBE linear framebuffer: `vram` from offset 0, `virtWidth * bytesPerPixel` per line.
 */
export interface VgaDisplayState {
  /** Sequencer registers SR00-SR04. */
  sequencer: Uint8Array;
  /** Graphics controller registers GR00-GR08. */
  graphics: Uint8Array;
  /** Attribute controller registers AR00-AR14. */
  attribute: Uint8Array;
  /** CRT controller registers CR00-CR18. */
  crtc: Uint8Array;
  miscOutput: number;
  /** Bit 5 of the attribute index (palette address source): 0 blanks the screen. */
  attributeIndex: number;
  /** DAC pixel mask (port 0x3C6). */
  dacMask: number;
  /** 256 DAC entries, 3 bytes each (R, G, B): 6-bit values, or 8-bit when `dac8bit`. */
  palette: Uint8Array;
  dac8bit: boolean;
  vbe: {
    enabled: boolean;
    xres: number;
    yres: number;
    bpp: number;
    virtWidth: number;
    xOffset: number;
    yOffset: number;
  };
  /** Guest time in ns when the state was taken (drives text blink and the cursor). */
  timeNs: number;
  /**
   * Increments on every register write and legacy-window write (a cheap "may have changed";
   * StdVga.changesSince says exactly what changed). Writes through the directly mapped linear
   * framebuffer (PCI BAR0) are invisible to the card, so while `scanoutIsLinearFramebuffer` is
   * true a viewer compares the framebuffer itself (src/display/lfb-shadow.ts).
   */
  generation: number;
  scanoutIsLinearFramebuffer: boolean;
}
