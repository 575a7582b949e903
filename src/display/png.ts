/**
 * A small PNG encoder for screenshots: 8-bit RGBA, one IDAT chunk holding a zlib stream
 * (RFC 1950) compressed with deflate (RFC 1951) using LZ77 with hash chains and the fixed
 * Huffman code, or stored blocks when asked. Rows are filtered with None, Sub or Up, chosen per
 * row by the smallest sum of absolute differences (the heuristic the PNG specification suggests).
 * Plain TypeScript, no DOM and no Node APIs, so the page and the command-line runner share it.
 */

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 as used by PNG chunks (ISO 3309, reflected, init and final XOR 0xFFFFFFFF). */
export function crc32(data: Uint8Array, start = 0, end = data.length, seed = 0): number {
  let c = ~seed >>> 0;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** Adler-32 checksum of the uncompressed data, the zlib stream trailer. */
export function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  const NMAX = 5552; // largest block before the sums can overflow 2^32 in 32-bit arithmetic
  for (let i = 0; i < data.length; ) {
    const end = Math.min(data.length, i + NMAX);
    for (; i < end; i++) {
      a += data[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

export interface PngOptions {
  /** false: stored deflate blocks (fast, large). Default true. */
  compress?: boolean;
}

export function encodePng(width: number, height: number, rgba: Uint8Array | Uint8ClampedArray, options: PngOptions = {}): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new RangeError(`PNG: image size ${width}x${height} is not valid`);
  }
  if (rgba.length < width * height * 4) {
    throw new RangeError(`PNG: ${rgba.length} bytes of pixels for a ${width}x${height} RGBA image (need ${width * height * 4})`);
  }
  const raw = filterRows(width, height, rgba);
  const zlib = zlibStream(raw, options.compress ?? true);

  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type: truecolour with alpha
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace

  const chunks = [chunk('IHDR', ihdr), chunk('IDAT', zlib), chunk('IEND', new Uint8Array(0))];
  const total = SIGNATURE.length + chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  out.set(SIGNATURE, 0);
  let at = SIGNATURE.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

function filterRows(width: number, height: number, rgba: ArrayLike<number>): Uint8Array {
  const stride = width * 4;
  const out = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    const prev = row - stride;
    let sumNone = 0;
    let sumSub = 0;
    let sumUp = 0;
    for (let i = 0; i < stride; i++) {
      const v = rgba[row + i];
      const sub = (v - (i >= 4 ? rgba[row + i - 4] : 0)) & 0xff;
      const up = (v - (y > 0 ? rgba[prev + i] : 0)) & 0xff;
      sumNone += v < 128 ? v : 256 - v;
      sumSub += sub < 128 ? sub : 256 - sub;
      sumUp += up < 128 ? up : 256 - up;
    }
    const filter = sumUp <= sumSub && sumUp <= sumNone ? 2 : sumSub <= sumNone ? 1 : 0;
    let o = y * (stride + 1);
    out[o++] = filter;
    for (let i = 0; i < stride; i++) {
      const v = rgba[row + i];
      if (filter === 0) out[o++] = v;
      else if (filter === 1) out[o++] = v - (i >= 4 ? rgba[row + i - 4] : 0);
      else out[o++] = v - (y > 0 ? rgba[prev + i] : 0);
    }
  }
  return out;
}

function zlibStream(data: Uint8Array, compress: boolean): Uint8Array {
  const body = compress ? deflateFixed(data) : deflateStored(data);
  const out = new Uint8Array(2 + body.length + 4);
  out[0] = 0x78; // deflate, 32 KiB window
  out[1] = 0x01; // no dictionary, check bits make 0x7801 a multiple of 31
  out.set(body, 2);
  new DataView(out.buffer).setUint32(2 + body.length, adler32(data));
  return out;
}

function deflateStored(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / 0xffff));
  const out = new Uint8Array(data.length + blocks * 5);
  let o = 0;
  for (let b = 0; b < blocks; b++) {
    const start = b * 0xffff;
    const len = Math.min(0xffff, data.length - start);
    out[o++] = b === blocks - 1 ? 1 : 0; // BFINAL, BTYPE 00
    out[o++] = len & 0xff;
    out[o++] = len >> 8;
    out[o++] = ~len & 0xff;
    out[o++] = (~len >> 8) & 0xff;
    out.set(data.subarray(start, start + len), o);
    o += len;
  }
  return out;
}

// Length codes 257-285: base length and extra bits; distance codes 0-29 likewise (RFC 1951 3.2.5).
const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

/** Length (3-258) to code index 0-28. */
const LENGTH_CODE = (() => {
  const t = new Uint8Array(259);
  for (let code = 0; code < 29; code++) {
    const end = code === 28 ? 259 : LENGTH_BASE[code + 1];
    for (let l = LENGTH_BASE[code]; l < end && l < 259; l++) t[l] = code;
  }
  t[258] = 28;
  return t;
})();

class BitWriter {
  private buf = new Uint8Array(1 << 16);
  private length = 0;
  private bits = 0;
  private count = 0;

  /** Append `n` bits of `value`, least significant first. */
  write(value: number, n: number): void {
    this.bits |= value << this.count;
    this.count += n;
    while (this.count >= 8) {
      this.byte(this.bits & 0xff);
      this.bits >>>= 8;
      this.count -= 8;
    }
  }

  /** Append a Huffman code of `n` bits (codes are defined most significant bit first). */
  writeCode(code: number, n: number): void {
    let reversed = 0;
    for (let i = 0; i < n; i++) reversed |= ((code >> i) & 1) << (n - 1 - i);
    this.write(reversed, n);
  }

  finish(): Uint8Array {
    if (this.count > 0) this.byte(this.bits & 0xff);
    this.bits = this.count = 0;
    return this.buf.slice(0, this.length);
  }

  private byte(b: number): void {
    if (this.length === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = b;
  }
}

function writeLiteralOrLength(w: BitWriter, symbol: number): void {
  if (symbol < 144) w.writeCode(0x30 + symbol, 8);
  else if (symbol < 256) w.writeCode(0x190 + symbol - 144, 9);
  else if (symbol < 280) w.writeCode(symbol - 256, 7);
  else w.writeCode(0xc0 + symbol - 280, 8);
}

function writeMatch(w: BitWriter, length: number, distance: number): void {
  const lc = LENGTH_CODE[length];
  writeLiteralOrLength(w, 257 + lc);
  if (LENGTH_EXTRA[lc]) w.write(length - LENGTH_BASE[lc], LENGTH_EXTRA[lc]);
  let dc = 0;
  while (dc < 29 && DIST_BASE[dc + 1] <= distance) dc++;
  w.writeCode(dc, 5);
  if (DIST_EXTRA[dc]) w.write(distance - DIST_BASE[dc], DIST_EXTRA[dc]);
}

const WINDOW = 32768;
const HASH_BITS = 15;
const MAX_CHAIN = 24;
const MIN_MATCH = 3;
const MAX_MATCH = 258;

/** One final deflate block with the fixed Huffman code and greedy LZ77 matching. */
function deflateFixed(data: Uint8Array): Uint8Array {
  const w = new BitWriter();
  w.write(1, 1); // BFINAL
  w.write(1, 2); // BTYPE 01: fixed Huffman
  const head = new Int32Array(1 << HASH_BITS).fill(-1);
  const prev = new Int32Array(WINDOW);
  const n = data.length;
  const hashAt = (i: number) => (((data[i] << 10) ^ (data[i + 1] << 5) ^ data[i + 2]) & ((1 << HASH_BITS) - 1));
  const insert = (i: number) => {
    if (i + MIN_MATCH > n) return;
    const h = hashAt(i);
    prev[i & (WINDOW - 1)] = head[h];
    head[h] = i;
  };

  let i = 0;
  while (i < n) {
    let bestLength = 0;
    let bestDistance = 0;
    if (i + MIN_MATCH <= n) {
      let candidate = head[hashAt(i)];
      const limit = Math.min(MAX_MATCH, n - i);
      for (let chain = 0; candidate >= 0 && i - candidate <= WINDOW - 1 && chain < MAX_CHAIN; chain++) {
        if (data[candidate + bestLength] === data[i + bestLength]) {
          let l = 0;
          while (l < limit && data[candidate + l] === data[i + l]) l++;
          if (l > bestLength) {
            bestLength = l;
            bestDistance = i - candidate;
            if (l === limit) break;
          }
        }
        const next = prev[candidate & (WINDOW - 1)];
        if (next >= candidate) break; // stale entry from an older window position
        candidate = next;
      }
    }
    if (bestLength >= MIN_MATCH) {
      writeMatch(w, bestLength, bestDistance);
      for (let k = 0; k < bestLength; k++) insert(i + k);
      i += bestLength;
    } else {
      writeLiteralOrLength(w, data[i]);
      insert(i);
      i++;
    }
  }
  writeLiteralOrLength(w, 256); // end of block
  return w.finish();
}
