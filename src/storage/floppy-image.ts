import type { FloppyMedia } from '../devices/floppy-controller.ts';

/**
 * A floppy image held in memory (at most 2.88 MB). Guest writes change this copy only: the
 * user's file is never written.
 */
export class FloppyImage implements FloppyMedia {
  private readonly data: Uint8Array;

  constructor(bytes: Uint8Array, readonly readOnly = false) {
    this.data = bytes.slice();
  }

  get size(): number {
    return this.data.length;
  }

  read(offset: number, length: number): Uint8Array {
    return this.data.slice(offset, offset + length);
  }

  write(offset: number, data: Uint8Array): void {
    if (!this.readOnly) this.data.set(data.subarray(0, Math.max(0, this.data.length - offset)), offset);
  }
}
