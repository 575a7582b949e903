/**
 * An image file read by path under Node. NODE-ONLY: imported by the command-line runner and
 * its tests, never by code that runs in the browser. The file is opened read-only: the user's
 * image is never written (a writable disk is a CowOverlay over this backend).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { type BlockBackend, BlockReadOnlyError, checkBlockRange } from './block-backend.ts';

export class NodeFileBackend implements BlockBackend {
  readonly readOnly = true;

  private constructor(
    readonly path: string,
    private handle: FileHandle | undefined,
    readonly size: number,
  ) {}

  /** Opens `path` read-only; rejects with the system's error (ENOENT, EACCES, EISDIR) if it cannot. */
  static async open(path: string): Promise<NodeFileBackend> {
    const handle = await open(path, 'r');
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new Error(`${path} is not a regular file`);
      return new NodeFileBackend(path, handle, stat.size);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkBlockRange(offset, length, this.size);
    if (!this.handle) throw new Error(`${this.path} is closed`);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(out, done, length - done, offset + done);
      // The file shrank under us: report it as a short image rather than returning stale zeros.
      if (bytesRead === 0) throw new Error(`${this.path}: unexpected end of file at ${offset + done}`);
      done += bytesRead;
    }
    return out;
  }

  async write(_offset: number, _data: Uint8Array): Promise<void> {
    throw new BlockReadOnlyError(this.path);
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }
}
