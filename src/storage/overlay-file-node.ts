/**
 * NODE-ONLY: an OverlayStore in a sparse file beside the configuration,
 * `<config dir>/<domain name>.<vdev>.overlay`:
 *
 *   0     "WHVMOVL1" magic, u32 format version (1), u32 block size, f64 image size,
 *         16 ASCII hex digits: the image identity hash (first and last 64 KiB)
 *   512   the block bitmap, one bit per block of the image (bit set: the block is stored)
 *   data  block i at dataStart + i * blockSize (dataStart: 512 + bitmap, rounded up to 4 KiB);
 *         blocks never written are holes in the file
 *
 * A block's data is written before its bitmap bit, so a block is never marked before it is
 * there; sync() is fsync, so what the guest flushed survives a crash of the host too.
 */
import { open, rm, stat, type FileHandle } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { type ImageIdentity, type OverlayStore, OverlayMismatchError } from './overlay-store.ts';

const MAGIC = 'WHVMOVL1';
const VERSION = 1;
const HEADER = 512;

export function overlayPath(configPath: string, domainName: string, vdev: string): string {
  const safe = domainName.replace(/[^A-Za-z0-9._-]/g, '_');
  return join(dirname(configPath), `${safe}.${vdev}.overlay`);
}

function layout(size: number, blockSize: number) {
  const blocks = Math.ceil(size / blockSize);
  const bitmapBytes = Math.ceil(blocks / 8);
  const dataStart = Math.ceil((HEADER + bitmapBytes) / 4096) * 4096;
  return { blocks, bitmapBytes, dataStart };
}

export class OverlayFile implements OverlayStore {
  private handle: FileHandle | undefined;
  private bitmap = new Uint8Array(0);
  private blockSize = 0;
  private size = 0;
  private dataStart = 0;

  constructor(readonly location: string) {}

  async open(identity: ImageIdentity, blockSize: number): Promise<[number, Uint8Array][]> {
    const exists = await stat(this.location).then(() => true, () => false);
    const { blocks, bitmapBytes, dataStart } = layout(identity.size, blockSize);
    this.blockSize = blockSize;
    this.size = identity.size;
    this.dataStart = dataStart;
    this.bitmap = new Uint8Array(bitmapBytes);
    if (!exists) {
      this.handle = await open(this.location, 'w+');
      const header = new Uint8Array(HEADER);
      header.set(new TextEncoder().encode(MAGIC), 0);
      const view = new DataView(header.buffer);
      view.setUint32(8, VERSION, true);
      view.setUint32(12, blockSize, true);
      view.setFloat64(16, identity.size, true);
      header.set(new TextEncoder().encode(identity.hash), 24);
      await this.handle.write(header, 0, HEADER, 0);
      await this.handle.write(this.bitmap, 0, bitmapBytes, HEADER);
      await this.handle.sync();
      return [];
    }
    const handle = await open(this.location, 'r+');
    this.handle = handle;
    try {
      const header = new Uint8Array(HEADER);
      const { bytesRead } = await handle.read(header, 0, HEADER, 0);
      if (bytesRead < 40 || new TextDecoder().decode(header.subarray(0, 8)) !== MAGIC) {
        throw new OverlayMismatchError(this.location, 'is not a WebHVM overlay file');
      }
      const view = new DataView(header.buffer);
      if (view.getUint32(8, true) !== VERSION) throw new OverlayMismatchError(this.location, `has overlay format version ${view.getUint32(8, true)}, this build reads ${VERSION}`);
      const savedBlock = view.getUint32(12, true);
      const savedSize = view.getFloat64(16, true);
      const savedHash = new TextDecoder().decode(header.subarray(24, 40));
      if (savedSize !== identity.size || savedHash !== identity.hash) {
        throw new OverlayMismatchError(this.location, `was made for another image (${savedSize} bytes, identity ${savedHash}; this image: ${identity.size} bytes, ${identity.hash})`);
      }
      if (savedBlock !== blockSize) throw new OverlayMismatchError(this.location, `uses ${savedBlock}-byte blocks, expected ${blockSize}`);
      const got = await handle.read(this.bitmap, 0, bitmapBytes, HEADER);
      if (got.bytesRead !== bitmapBytes) throw new OverlayMismatchError(this.location, 'is truncated (block map)');
      const fileSize = (await handle.stat()).size;
      const out: [number, Uint8Array][] = [];
      for (let i = 0; i < blocks; i++) {
        if (!(this.bitmap[i >> 3] & (1 << (i & 7)))) continue;
        const length = Math.min(blockSize, identity.size - i * blockSize);
        const at = dataStart + i * blockSize;
        if (at + length > fileSize) throw new OverlayMismatchError(this.location, `is truncated (block ${i} is marked but missing)`);
        const data = new Uint8Array(length);
        await handle.read(data, 0, length, at);
        out.push([i, data]);
      }
      return out;
    } catch (e) {
      await handle.close();
      this.handle = undefined;
      throw e;
    }
  }

  async writeBlock(index: number, data: Uint8Array): Promise<void> {
    const h = this.requireOpen();
    const length = Math.min(this.blockSize, this.size - index * this.blockSize);
    if (!Number.isInteger(index) || index < 0 || length <= 0 || data.length !== length) {
      throw new RangeError(`overlay block ${index} of ${data.length} bytes does not fit this image`);
    }
    await h.write(data, 0, length, this.dataStart + index * this.blockSize);
    const byte = index >> 3;
    if (!(this.bitmap[byte] & (1 << (index & 7)))) {
      this.bitmap[byte] |= 1 << (index & 7);
      await h.write(this.bitmap, byte, 1, HEADER + byte);
    }
  }

  async sync(): Promise<void> {
    await this.requireOpen().sync();
  }

  async clear(): Promise<void> {
    const h = this.requireOpen();
    this.bitmap.fill(0);
    await h.write(this.bitmap, 0, this.bitmap.length, HEADER);
    await h.truncate(this.dataStart);
    await h.sync();
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }

  private requireOpen(): FileHandle {
    if (!this.handle) throw new Error(`${this.location} is not open`);
    return this.handle;
  }
}

/** Remove an overlay file; false if there was none. */
export async function discardOverlayFile(path: string): Promise<boolean> {
  const exists = await stat(path).then(() => true, () => false);
  if (exists) await rm(path);
  return exists;
}
