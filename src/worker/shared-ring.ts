/**
 * A single-producer, single-consumer ring of bytes in a SharedArrayBuffer, for input and serial
 * bytes between the page and the machine worker without a postMessage per event.
 *
 * Layout at `offset`: a header of four Int32 words, then `capacity` data bytes (a power of two).
 *   head     bytes ever written (wraps at 2^32); only the producer stores it
 *   tail     bytes ever read; only the consumer stores it
 *   dropped  what a full ring refused: whole records in record mode, bytes in byte mode
 *   spare
 * The producer writes the data first and publishes it with one Atomics.store of head, so the
 * consumer never sees half a record. A ring is used either for bytes (`write`/`read`) or for
 * records (`writeRecord`/`readRecord`: a 16-bit little-endian length, then the payload), not both.
 *
 * A full ring never blocks the producer (the page's main thread must not wait): `writeRecord`
 * drops the whole record, `write` takes what fits; both count what they refused in `dropped`.
 */

const HEAD = 0;
const TAIL = 1;
const DROPPED = 2;
const HEADER_BYTES = 16;
/** Largest record payload (the length prefix is 16 bits). */
export const MAX_RECORD_BYTES = 0xffff;

export class SharedRing {
  private readonly header: Int32Array;
  private readonly data: Uint8Array;
  private readonly mask: number;

  /** Bytes a ring of `capacity` data bytes occupies, header included. */
  static bytesFor(capacity: number): number {
    return HEADER_BYTES + capacity;
  }

  constructor(buffer: SharedArrayBuffer | ArrayBuffer, offset: number, readonly capacity: number) {
    if (capacity < 4 || (capacity & (capacity - 1)) !== 0 || capacity > 1 << 30) {
      throw new RangeError(`ring capacity must be a power of two from 4 to 2^30, got ${capacity}`);
    }
    if (offset % 4 !== 0) throw new RangeError(`ring offset must be a multiple of 4, got ${offset}`);
    if (offset + HEADER_BYTES + capacity > buffer.byteLength) throw new RangeError('ring does not fit in its buffer');
    this.header = new Int32Array(buffer, offset, 4);
    this.data = new Uint8Array(buffer, offset + HEADER_BYTES, capacity);
    this.mask = capacity - 1;
  }

  /** Bytes waiting to be read. */
  get used(): number {
    return (Atomics.load(this.header, HEAD) - Atomics.load(this.header, TAIL)) >>> 0;
  }

  get free(): number {
    return this.capacity - this.used;
  }

  /** Records (record mode) or bytes (byte mode) refused because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.header, DROPPED) >>> 0;
  }

  // ---- producer ----

  /** Counts `n` units the producer refused on its own (a backlog it had to cut). */
  countDropped(n: number): void {
    if (n > 0) Atomics.add(this.header, DROPPED, n);
  }

  /** Wakes a consumer waiting in waitForData (it finds nothing new and returns). */
  wake(): void {
    Atomics.notify(this.header, HEAD);
  }

  /** Byte mode: copy as much of `bytes` as fits; the rest is counted as dropped. Returns bytes taken. */
  write(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, this.free);
    if (n > 0) this.publish(this.copyIn(Atomics.load(this.header, HEAD), bytes.subarray(0, n)));
    if (n < bytes.length) Atomics.add(this.header, DROPPED, bytes.length - n);
    return n;
  }

  /** Record mode: the whole record or nothing (counted as dropped). */
  writeRecord(payload: Uint8Array): boolean {
    if (payload.length > MAX_RECORD_BYTES) throw new RangeError(`record of ${payload.length} bytes is longer than ${MAX_RECORD_BYTES}`);
    if (payload.length + 2 > this.free) {
      Atomics.add(this.header, DROPPED, 1);
      return false;
    }
    let head = Atomics.load(this.header, HEAD);
    head = this.copyIn(head, Uint8Array.of(payload.length & 0xff, payload.length >>> 8));
    this.publish(this.copyIn(head, payload));
    return true;
  }

  private copyIn(head: number, bytes: Uint8Array): number {
    const at = head & this.mask;
    const first = Math.min(bytes.length, this.capacity - at);
    this.data.set(bytes.subarray(0, first), at);
    if (first < bytes.length) this.data.set(bytes.subarray(first), 0);
    return (head + bytes.length) | 0;
  }

  private publish(head: number): void {
    Atomics.store(this.header, HEAD, head);
    Atomics.notify(this.header, HEAD);
  }

  // ---- consumer ----

  /** Byte mode: up to `max` waiting bytes (a copy; empty when nothing waits). */
  read(max = this.capacity): Uint8Array {
    const tail = Atomics.load(this.header, TAIL);
    const n = Math.min(this.used, max);
    const out = this.copyOut(tail, n);
    Atomics.store(this.header, TAIL, (tail + n) | 0);
    return out;
  }

  /** Record mode: the next whole record, or undefined when none waits. */
  readRecord(): Uint8Array | undefined {
    const used = this.used;
    if (used < 2) return undefined;
    const tail = Atomics.load(this.header, TAIL);
    const prefix = this.copyOut(tail, 2);
    const length = prefix[0] | (prefix[1] << 8);
    if (used < 2 + length) throw new Error(`ring holds ${used} bytes, fewer than its record of ${length} (a second producer or byte-mode use?)`);
    const out = this.copyOut((tail + 2) | 0, length);
    Atomics.store(this.header, TAIL, (tail + 2 + length) | 0);
    return out;
  }

  private copyOut(tail: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    const at = tail & this.mask;
    const first = Math.min(n, this.capacity - at);
    out.set(this.data.subarray(at, at + first));
    if (first < n) out.set(this.data.subarray(0, n - first), first);
    return out;
  }

  /**
   * Resolves when the producer publishes more data (or after `timeoutMs`). Uses
   * Atomics.waitAsync where the platform has it, so the consumer's thread stays free while it
   * waits; elsewhere it simply waits the timeout.
   */
  waitForData(timeoutMs: number): Promise<void> {
    const head = Atomics.load(this.header, HEAD);
    if (((head - Atomics.load(this.header, TAIL)) >>> 0) > 0) return Promise.resolve();
    const waitAsync = (Atomics as unknown as { waitAsync?: (a: Int32Array, i: number, v: number, t: number) => { async: boolean; value: Promise<unknown> | string } }).waitAsync;
    if (waitAsync && this.header.buffer instanceof SharedArrayBuffer) {
      const r = waitAsync(this.header, HEAD, head, timeoutMs);
      return r.async ? (r.value as Promise<unknown>).then(() => {}) : Promise.resolve();
    }
    return new Promise((resolve) => setTimeout(resolve, timeoutMs));
  }
}
