import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { adler32, crc32, encodePng } from '../../src/display/png.ts';

interface Chunk {
  type: string;
  data: Uint8Array;
  crc: number;
  crcInput: Uint8Array;
}

function chunks(png: Uint8Array): Chunk[] {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: Chunk[] = [];
  let at = 8;
  while (at < png.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    out.push({ type, data: png.subarray(at + 8, at + 8 + length), crc: view.getUint32(at + 8 + length), crcInput: png.subarray(at + 4, at + 8 + length) });
    at += 12 + length;
  }
  return out;
}

/** Undo the PNG row filters (None, Sub, Up, Average, Paeth) of an RGBA8 image. */
function unfilter(raw: Uint8Array, width: number, height: number): Uint8Array {
  const stride = width * 4;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    expect([0, 1, 2, 3, 4]).toContain(f);
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i];
      const a = i >= 4 ? out[y * stride + i - 4] : 0;
      const b = y > 0 ? out[(y - 1) * stride + i] : 0;
      const c = i >= 4 && y > 0 ? out[(y - 1) * stride + i - 4] : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = b;
      else if (f === 3) pred = (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + i] = (x + pred) & 0xff;
    }
  }
  return out;
}

function testImage(width: number, height: number): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      // Flat areas, stripes and a gradient, so every filter and long matches occur.
      rgba[i] = x < width / 2 ? 200 : (x * 7) & 0xff;
      rgba[i + 1] = (y * 13) & 0xff;
      rgba[i + 2] = (x ^ y) & 1 ? 255 : 0;
      rgba[i + 3] = 255 - (x & 3);
    }
  }
  return rgba;
}

describe('encodePng', () => {
  for (const compress of [true, false]) {
    it(`writes signature, IHDR, valid CRCs and a zlib stream that inflates back (${compress ? 'deflate' : 'stored'})`, () => {
      const width = 173;
      const height = 61;
      const rgba = testImage(width, height);
      const png = encodePng(width, height, rgba, { compress });
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      const cs = chunks(png);
      expect(cs.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
      for (const c of cs) expect(c.crc).toBe(crc32(c.crcInput));
      const ihdr = new DataView(cs[0].data.buffer, cs[0].data.byteOffset, 13);
      expect(ihdr.getUint32(0)).toBe(width);
      expect(ihdr.getUint32(4)).toBe(height);
      expect([...cs[0].data.subarray(8)]).toEqual([8, 6, 0, 0, 0]);

      const z = cs[1].data;
      expect(((z[0] << 8) | z[1]) % 31).toBe(0);
      expect(z[0] & 0x0f).toBe(8);
      const raw = inflateSync(z); // Node verifies the Adler-32 trailer
      const trailer = new DataView(z.buffer, z.byteOffset + z.length - 4, 4).getUint32(0);
      expect(trailer).toBe(adler32(new Uint8Array(raw)));
      expect(raw.length).toBe(height * (width * 4 + 1));
      expect(unfilter(new Uint8Array(raw), width, height)).toEqual(new Uint8Array(rgba.buffer));
      if (compress) expect(z.length).toBeLessThan(raw.length / 2);
    });
  }

  it('compresses a large flat screen to a small file', () => {
    const rgba = new Uint8ClampedArray(720 * 400 * 4).fill(0xaa);
    const png = encodePng(720, 400, rgba);
    expect(png.length).toBeLessThan(rgba.length / 50);
    const raw = inflateSync(chunks(png)[1].data);
    expect(unfilter(new Uint8Array(raw), 720, 400).every((v) => v === 0xaa)).toBe(true);
  });

  it('splits stored data into 64 KiB blocks', () => {
    const rgba = testImage(200, 200);
    const z = chunks(encodePng(200, 200, rgba, { compress: false }))[1].data;
    expect(inflateSync(z).length).toBe(200 * 801);
  });

  it('computes the standard CRC-32 and Adler-32 check values', () => {
    const text = new TextEncoder().encode('123456789');
    expect(crc32(text)).toBe(0xcbf43926);
    expect(adler32(new TextEncoder().encode('Wikipedia'))).toBe(0x11e60398);
  });

  it('refuses sizes that do not match the pixels', () => {
    expect(() => encodePng(0, 1, new Uint8Array(0))).toThrow(RangeError);
    expect(() => encodePng(2, 2, new Uint8Array(15))).toThrow(/need 16/);
  });
});
