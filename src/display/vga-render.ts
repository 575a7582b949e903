/**
 * Turns the standard VGA's display state and video memory into an RGBA image, for the page's
 * canvas and the command-line runner's screenshots. Pure code: no DOM, no Node APIs.
 *
 * Covered: text modes of any CRTC size (8 or 9 dot characters with the line-graphics 9th column,
 * two fonts selected by attribute bit 3, cursor, blink attribute, monochrome underline), the
 * 16-colour planar modes (0Dh-12h and VBE 4bpp), CGA-compatible modes 4/5 (interleaved shift)
 * and 6 through the CRTC address substitution, 256-colour mode 13h chained and unchained
 * ("mode X"), split screen via line compare, and Bochs VBE at 8/15/16/24/32 bpp.
 * Left out: horizontal pixel panning (AR13), preset row scan (CR08), cursor skew, and the
 * 9-dot graphics-mode clock. Output pixels are one per mode pixel: a 320x200 mode gives a
 * 320x200 image (no doubling); the viewer scales.
 *
 * Memory layout: see src/devices/vga-display-state.ts. Assumes a little-endian host, as every
 * browser and Node platform is, to pack RGBA as 32-bit words.
 */
import type { VgaDisplayState } from '../devices/vga-display-state.ts';
import {
  attributePalette,
  dacPalette,
  displayedScanLines,
  fontBase,
  lineCompare,
  planeAddress,
  rowStride,
  scanoutKind,
  startAddress,
  textGeometry,
} from './vga-geometry.ts';

export interface Frame {
  width: number;
  height: number;
  /** width * height * 4 bytes, R G B A per pixel, rows top to bottom. */
  rgba: Uint8ClampedArray;
}

/**
 * Part of the output image, in output pixels. When a renderer is given one, it renders at least
 * the pixels inside it (whole character cells or whole lines around it) into `out`, which must
 * then hold the previous frame of the same size; the rest of `out` is left as it was.
 */
export interface ClipRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Frames per second the blink and cursor phases assume (the VGA's 70 Hz text modes). */
const FRAME_NS = 1e9 / 70;
const MAX_SIZE = 4096;
const BLACK = 0xff000000;

/**
 * Render the screen. `out` may be passed to reuse a buffer between frames; it is used when big
 * enough (the returned `rgba` is then a view of it).
 */
export function renderFrame(state: VgaDisplayState, vram: Uint8Array, out?: Uint8ClampedArray, clip?: ClipRect): Frame {
  switch (scanoutKind(state)) {
    case 'vbe':
      return state.vbe.bpp === 4 ? renderPlanarVbe(state, vram, out, clip) : renderVbe(state, vram, out, clip);
    case 'text':
      return renderText(state, vram, out, clip);
    case 'graphics':
      return renderGraphics(state, vram, out, clip);
    default:
      return renderBlank(state, out);
  }
}

/** Output lines [from, to) inside both the frame and `clip`. */
function lineRange(height: number, clip?: ClipRect): { from: number; to: number } {
  if (!clip) return { from: 0, to: height };
  return { from: Math.max(0, Math.floor(clip.y)), to: Math.min(height, Math.ceil(clip.y + clip.height)) };
}

/** The size of the image renderFrame makes for `state`. */
export function frameSize(state: VgaDisplayState): { width: number; height: number } {
  let size: { width: number; height: number };
  switch (scanoutKind(state)) {
    case 'vbe':
      size = { width: state.vbe.xres, height: state.vbe.yres };
      break;
    case 'text':
      size = textSize(state);
      break;
    case 'graphics':
      size = graphicsSize(state);
      break;
    default:
      size = blankSize(state);
  }
  return { width: clampSize(size.width), height: clampSize(size.height) };
}

function clampSize(v: number): number {
  return Math.max(1, Math.min(MAX_SIZE, v | 0));
}

/** Cursor and blink phases at guest time `timeNs`: the cursor blinks every 8 frames, characters every 16. */
export function textBlinkPhases(timeNs: number): { cursorOn: boolean; blinkOn: boolean } {
  const frameNumber = Math.floor(timeNs / FRAME_NS);
  return { cursorOn: ((frameNumber >> 3) & 1) === 0, blinkOn: ((frameNumber >> 4) & 1) === 0 };
}

function allocate(width: number, height: number, out?: Uint8ClampedArray): { frame: Frame; pixels: Uint32Array } {
  width = clampSize(width);
  height = clampSize(height);
  const bytes = width * height * 4;
  const rgba = out && out.length >= bytes && out.byteOffset % 4 === 0 ? out.subarray(0, bytes) : new Uint8ClampedArray(bytes);
  const pixels = new Uint32Array(rgba.buffer, rgba.byteOffset, width * height);
  return { frame: { width, height, rgba }, pixels };
}

/** The planes as one dword per plane offset (plane p in byte p); copies if `vram` is unaligned. */
function planeWords(vram: Uint8Array): Uint32Array {
  const count = vram.length >> 2;
  if (vram.byteOffset % 4 === 0) return new Uint32Array(vram.buffer, vram.byteOffset, count);
  const copy = new Uint8Array(Math.min(vram.length, 0x40000) & ~3);
  copy.set(vram.subarray(0, copy.length));
  return new Uint32Array(copy.buffer);
}

function blankSize(state: VgaDisplayState): { width: number; height: number } {
  // Keep the size of the mode being set up if it is sane, so the viewer does not jump around.
  const kind = state.graphics[6] & 1 ? 'graphics' : 'text';
  const { width, height } = kind === 'text' ? textSize(state) : graphicsSize(state);
  if (width < 64 || height < 64 || width > MAX_SIZE || height > MAX_SIZE) return { width: 640, height: 400 };
  return { width, height };
}

function renderBlank(state: VgaDisplayState, out?: Uint8ClampedArray): Frame {
  const { width, height } = blankSize(state);
  const { frame, pixels } = allocate(width, height, out);
  pixels.fill(BLACK);
  return frame;
}

// ---- Text ----------------------------------------------------------------------------------

function textSize(state: VgaDisplayState): { width: number; height: number } {
  const g = textGeometry(state);
  return { width: g.columns * g.charWidth, height: g.rows * g.charHeight };
}

function renderText(state: VgaDisplayState, vram: Uint8Array, out?: Uint8ClampedArray, clip?: ClipRect): Frame {
  const g = textGeometry(state);
  const { frame, pixels } = allocate(g.columns * g.charWidth, g.rows * g.charHeight, out);
  const width = frame.width;
  const colors = attributePalette(state, dacPalette(state));
  const crtc = state.crtc;
  const ar10 = state.attribute[0x10];
  const blinkEnabled = (ar10 & 0x08) !== 0;
  const lineGraphics = (ar10 & 0x04) !== 0;
  const monoUnderline = (ar10 & 0x02) !== 0;
  const underlineLine = crtc[0x14] & 0x1f;
  const { cursorOn: cursorPhaseOn, blinkOn: blinkPhaseOn } = textBlinkPhases(state.timeNs);
  const cursorStart = crtc[0x0a] & 0x1f;
  const cursorEnd = crtc[0x0b] & 0x1f;
  const cursorOn = cursorPhaseOn && !(crtc[0x0a] & 0x20) && cursorStart <= cursorEnd;
  const cursorAddress = (crtc[0x0e] << 8) | crtc[0x0f];
  const fontA = fontBase(state.sequencer, true);
  const fontB = fontBase(state.sequencer, false);
  const planes = vram.length >> 2;
  const lines = lineRange(frame.height, clip);
  const firstRow = Math.floor(lines.from / g.charHeight);
  const endRow = Math.ceil(lines.to / g.charHeight);
  const firstCol = clip ? Math.max(0, Math.floor(clip.x / g.charWidth)) : 0;
  const endCol = clip ? Math.ceil((clip.x + clip.width) / g.charWidth) : g.columns;

  for (let row = firstRow; row < endRow && row < g.rows && row * g.charHeight < frame.height; row++) {
    for (let col = firstCol; col < endCol && col < g.columns && col * g.charWidth < width; col++) {
      const ma = (g.start + row * g.stride + col) & 0xffff;
      const address = planeAddress(crtc, ma, 0);
      const code = vram[((address % planes) << 2) | 0];
      const attr = vram[((address % planes) << 2) | 1];
      let fg = colors[attr & 0x0f];
      let bg: number;
      if (blinkEnabled) {
        bg = colors[(attr >> 4) & 0x07];
        if (attr & 0x80 && !blinkPhaseOn) fg = bg;
      } else {
        bg = colors[attr >> 4];
      }
      const font = attr & 0x08 ? fontA : fontB;
      const glyphAt = font + code * 32;
      const ninthFromGlyph = lineGraphics && code >= 0xc0 && code <= 0xdf;
      const isCursor = cursorOn && ma === cursorAddress;
      const underline = monoUnderline && (attr & 0x77) === 0x01;
      for (let line = 0; line < g.charHeight; line++) {
        const y = row * g.charHeight + line;
        if (y >= frame.height) break;
        let bits = vram[(((glyphAt + line) % planes) << 2) | 2];
        let ninth = ninthFromGlyph && (bits & 1) !== 0;
        if ((isCursor && line >= cursorStart && line <= cursorEnd) || (underline && line === underlineLine)) {
          bits = 0xff; // the cursor and the underline cover the whole cell, ninth dot included
          ninth = true;
        }
        let p = y * width + col * g.charWidth;
        for (let bit = 7; bit >= 0; bit--) pixels[p++] = (bits >> bit) & 1 ? fg : bg;
        if (g.charWidth === 9) pixels[p] = ninth ? fg : bg;
      }
    }
  }
  return frame;
}

// ---- VGA graphics --------------------------------------------------------------------------

export interface GraphicsGeometry {
  width: number;
  height: number;
  /** CRTC scan lines per output line (double scan, and repeated row scans when not CGA). */
  linesPerOutput: number;
  charClocks: number;
  mode256: boolean;
  interleave: boolean;
}

export function graphicsGeometry(state: VgaDisplayState): GraphicsGeometry {
  const crtc = state.crtc;
  const charClocks = Math.max(1, crtc[1] + 1);
  const mode256 = (state.graphics[5] & 0x40) !== 0;
  const interleave = !mode256 && (state.graphics[5] & 0x20) !== 0;
  const doubleScan = crtc[9] & 0x80 ? 2 : 1;
  const maxScan = (crtc[9] & 0x1f) + 1;
  // With CGA address substitution each row scan shows different memory, so it is its own line.
  const cga = (crtc[0x17] & 0x03) !== 0x03;
  const linesPerOutput = doubleScan * (cga ? 1 : maxScan);
  const width = charClocks * (mode256 ? 4 : 8);
  const height = Math.floor(displayedScanLines(crtc) / linesPerOutput);
  return { width, height, linesPerOutput, charClocks, mode256, interleave };
}

function graphicsSize(state: VgaDisplayState): { width: number; height: number } {
  const g = graphicsGeometry(state);
  return { width: g.width, height: g.height };
}

/**
 * Where graphics output line `y` reads video memory: the CRTC address of its first character
 * clock and its row scan, with double scanning, the character height and the split screen (line
 * compare restarts at address 0) applied.
 */
export function graphicsLineSource(crtc: Uint8Array, linesPerOutput: number, y: number): { lineStart: number; rowScan: number } {
  const doubleScan = crtc[9] & 0x80 ? 2 : 1;
  const maxScan = (crtc[9] & 0x1f) + 1;
  const compare = lineCompare(crtc);
  let scanLine = y * linesPerOutput;
  let base = startAddress(crtc);
  if (scanLine > compare) {
    scanLine -= compare + 1;
    base = 0;
  }
  const row = Math.floor(scanLine / (doubleScan * maxScan));
  return { lineStart: base + row * rowStride(crtc), rowScan: Math.floor(scanLine / doubleScan) % maxScan };
}

function renderGraphics(state: VgaDisplayState, vram: Uint8Array, out?: Uint8ClampedArray, clip?: ClipRect): Frame {
  const g = graphicsGeometry(state);
  const { frame, pixels } = allocate(g.width, g.height, out);
  const dac = dacPalette(state);
  const colors = attributePalette(state, dac);
  const crtc = state.crtc;
  const planeEnable = state.attribute[0x12] & 0x0f;
  const dacMask = state.dacMask;
  const words = planeWords(vram);
  const clocks = Math.min(g.charClocks, Math.ceil(frame.width / (g.mode256 ? 4 : 8)));
  const lines = lineRange(frame.height, clip);

  for (let y = lines.from; y < lines.to; y++) {
    const { lineStart, rowScan } = graphicsLineSource(crtc, g.linesPerOutput, y);
    let p = y * frame.width;
    for (let k = 0; k < clocks; k++) {
      const address = planeAddress(crtc, (lineStart + k) & 0xffff, rowScan);
      const latch = words[address % words.length];
      if (g.mode256) {
        for (let plane = 0; plane < 4; plane++) pixels[p++] = dac[(latch >>> (plane * 8)) & dacMask];
      } else if (g.interleave) {
        // CGA 4-colour: plane 0 supplies the first four 2-bit pixels, plane 1 the next four.
        for (let j = 0; j < 8; j++) {
          const src = j < 4 ? latch & 0xff : (latch >>> 8) & 0xff;
          const hi = j < 4 ? (latch >>> 16) & 0xff : latch >>> 24;
          const shift = 6 - 2 * (j & 3);
          const index = ((src >> shift) & 3) | (((hi >> shift) & 3) << 2);
          pixels[p++] = colors[index & planeEnable];
        }
      } else {
        const p0 = latch & 0xff;
        const p1 = (latch >>> 8) & 0xff;
        const p2 = (latch >>> 16) & 0xff;
        const p3 = latch >>> 24;
        for (let bit = 7; bit >= 0; bit--) {
          const index = ((p0 >> bit) & 1) | (((p1 >> bit) & 1) << 1) | (((p2 >> bit) & 1) << 2) | (((p3 >> bit) & 1) << 3);
          pixels[p++] = colors[index & planeEnable];
        }
      }
    }
  }
  return frame;
}

// ---- Bochs VBE -----------------------------------------------------------------------------

function renderVbe(state: VgaDisplayState, vram: Uint8Array, out?: Uint8ClampedArray, clip?: ClipRect): Frame {
  const v = state.vbe;
  const { frame, pixels } = allocate(v.xres, v.yres, out);
  const bpp = v.bpp;
  const bytesPerPixel = (bpp + 7) >> 3;
  const stride = v.virtWidth * bytesPerPixel;
  const dac = bpp === 8 ? dacPalette(state) : undefined;
  const size = vram.length;
  const { width, height } = frame;
  const lines = lineRange(height, clip);
  for (let y = lines.from; y < lines.to; y++) {
    let src = (v.yOffset + y) * stride + v.xOffset * bytesPerPixel;
    let p = y * width;
    if (src + width * bytesPerPixel > size) {
      pixels.fill(BLACK, p, p + width); // past the end of video memory
      continue;
    }
    switch (bpp) {
      case 8:
        for (let x = 0; x < width; x++) pixels[p++] = dac![vram[src++]];
        break;
      case 15:
      case 16:
        for (let x = 0; x < width; x++, src += 2) {
          const w = vram[src] | (vram[src + 1] << 8);
          let r: number, g: number;
          if (bpp === 15) {
            r = (w >> 10) & 0x1f;
            g = (w >> 5) & 0x1f;
            g = (g << 3) | (g >> 2);
          } else {
            r = w >> 11;
            g = (w >> 5) & 0x3f;
            g = (g << 2) | (g >> 4);
          }
          const b = w & 0x1f;
          pixels[p++] = (BLACK | (((b << 3) | (b >> 2)) << 16) | (g << 8) | ((r << 3) | (r >> 2))) >>> 0;
        }
        break;
      default: // 24 and 32: blue, green, red (, unused) in memory order
        for (let x = 0; x < width; x++, src += bytesPerPixel) {
          pixels[p++] = (BLACK | (vram[src] << 16) | (vram[src + 1] << 8) | vram[src + 2]) >>> 0;
        }
        break;
    }
  }
  return frame;
}

/** VBE 4bpp modes are VGA planar memory at VBE resolution (as SeaVGABIOS sets them up). */
function renderPlanarVbe(state: VgaDisplayState, vram: Uint8Array, out?: Uint8ClampedArray, clip?: ClipRect): Frame {
  const v = state.vbe;
  const { frame, pixels } = allocate(v.xres, v.yres, out);
  const colors = attributePalette(state, dacPalette(state));
  const planeEnable = state.attribute[0x12] & 0x0f;
  const words = planeWords(vram);
  const lines = lineRange(frame.height, clip);
  for (let y = lines.from; y < lines.to; y++) {
    let p = y * frame.width;
    for (let x = 0; x < frame.width; x++) {
      const pos = (v.yOffset + y) * v.virtWidth + v.xOffset + x;
      const latch = words[Math.floor(pos / 8) % words.length];
      const bit = 7 - (pos & 7);
      const index = ((latch >>> bit) & 1) | ((latch >>> (bit + 7)) & 2) | ((latch >>> (bit + 14)) & 4) | ((latch >>> (bit + 21)) & 8);
      pixels[p++] = colors[index & planeEnable];
    }
  }
  return frame;
}
