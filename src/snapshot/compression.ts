/**
 * Compression for snapshot sections with the platform's CompressionStream (browsers and
 * Node 20 both have it), and the sparse page encoding used for RAM and video memory: a page
 * of zeros costs one bit.
 */

const PAGE = 4096;

async function pipe(data: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  // A Blob cannot take a view of shared memory: copy such data first.
  const plain = data.buffer instanceof ArrayBuffer ? (data as Uint8Array<ArrayBuffer>) : data.slice();
  const input = new Blob([plain]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(input).arrayBuffer());
}

export function gzip(data: Uint8Array): Promise<Uint8Array> {
  return pipe(data, new CompressionStream('gzip'));
}

export async function gunzip(data: Uint8Array): Promise<Uint8Array> {
  try {
    return await pipe(data, new DecompressionStream('gzip'));
  } catch (e) {
    throw new Error(`compressed data is corrupt (${(e as Error).message})`);
  }
}

/** Memory as a page bitmap (non-zero pages) followed by those pages. */
export function packPages(memory: Uint8Array): Uint8Array {
  const pages = Math.ceil(memory.length / PAGE);
  const bitmap = new Uint8Array(Math.ceil(pages / 8));
  const words = new Uint32Array(memory.buffer, memory.byteOffset, Math.floor(memory.length / 4));
  let used = 0;
  for (let p = 0; p < pages; p++) {
    const end = Math.min((p + 1) * (PAGE / 4), words.length);
    let nonzero = false;
    for (let w = p * (PAGE / 4); w < end; w++) {
      if (words[w] !== 0) {
        nonzero = true;
        break;
      }
    }
    if (!nonzero && (p + 1) * PAGE > words.length * 4) nonzero = memory.subarray(words.length * 4).some((b) => b !== 0);
    if (nonzero) {
      bitmap[p >> 3] |= 1 << (p & 7);
      used++;
    }
  }
  const out = new Uint8Array(8 + bitmap.length + used * PAGE);
  const view = new DataView(out.buffer);
  view.setUint32(0, memory.length, true);
  view.setUint32(4, used, true);
  out.set(bitmap, 8);
  let at = 8 + bitmap.length;
  for (let p = 0; p < pages; p++) {
    if (!(bitmap[p >> 3] & (1 << (p & 7)))) continue;
    out.set(memory.subarray(p * PAGE, Math.min((p + 1) * PAGE, memory.length)), at);
    at += PAGE;
  }
  return out;
}

/** Write packed pages into `memory` (which must have the packed size); zero pages are cleared. */
export function unpackPages(packed: Uint8Array, memory: Uint8Array, what: string): void {
  if (packed.length < 8) throw new Error(`${what}: packed memory is truncated`);
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const size = view.getUint32(0, true);
  const used = view.getUint32(4, true);
  if (size !== memory.length) throw new Error(`${what}: the snapshot has ${size} bytes, this machine ${memory.length}`);
  const pages = Math.ceil(size / PAGE);
  const bitmapBytes = Math.ceil(pages / 8);
  if (packed.length !== 8 + bitmapBytes + used * PAGE) throw new Error(`${what}: packed memory has the wrong length`);
  const bitmap = packed.subarray(8, 8 + bitmapBytes);
  let at = 8 + bitmapBytes;
  let seen = 0;
  for (let p = 0; p < pages; p++) {
    const start = p * PAGE;
    const end = Math.min(start + PAGE, size);
    if (bitmap[p >> 3] & (1 << (p & 7))) {
      if (++seen > used) throw new Error(`${what}: page bitmap and page count disagree`);
      memory.set(packed.subarray(at, at + (end - start)), start);
      at += PAGE;
    } else {
      memory.fill(0, start, end);
    }
  }
  if (seen !== used) throw new Error(`${what}: page bitmap and page count disagree`);
}
