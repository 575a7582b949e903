/**
 * A BlockBackend wrapper that counts requests, for the page's disk activity light. It passes
 * every call through unchanged.
 */
import type { BlockBackend } from '../storage/block-backend.ts';

export interface BlockCounters {
  reads: number;
  writes: number;
}

export class CountingBackend implements BlockBackend {
  constructor(
    private readonly inner: BlockBackend,
    private readonly counters: BlockCounters,
  ) {}

  get size(): number {
    return this.inner.size;
  }

  get readOnly(): boolean {
    return this.inner.readOnly;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    this.counters.reads++;
    return this.inner.read(offset, length);
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    this.counters.writes++;
    return this.inner.write(offset, data);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }
}
