import { describe, expect, it } from 'vitest';
import { SharedRing } from '../../src/worker/shared-ring.ts';

const ring = (capacity: number) => new SharedRing(new SharedArrayBuffer(SharedRing.bytesFor(capacity)), 0, capacity);
const bytes = (...b: number[]) => Uint8Array.from(b);

describe('SharedRing (single producer, single consumer)', () => {
  it('passes bytes through in order and wraps around the end of its storage', () => {
    const r = ring(8);
    expect(r.write(bytes(1, 2, 3, 4, 5, 6))).toBe(6);
    expect([...r.read(4)]).toEqual([1, 2, 3, 4]);
    // 6 more: 2 fit before the end, 4 go to the start.
    expect(r.write(bytes(7, 8, 9, 10, 11, 12))).toBe(6);
    expect(r.used).toBe(8);
    expect([...r.read()]).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
    expect(r.used).toBe(0);
    expect(r.read().length).toBe(0);
  });

  it('takes only what fits when full and counts the rest as dropped', () => {
    const r = ring(4);
    expect(r.write(bytes(1, 2, 3))).toBe(3);
    expect(r.write(bytes(4, 5, 6))).toBe(1);
    expect(r.dropped).toBe(2);
    expect(r.free).toBe(0);
    expect([...r.read()]).toEqual([1, 2, 3, 4]);
  });

  it('keeps records whole, including records that cross the end of the storage', () => {
    const r = ring(16);
    // Move the indices to 10 so the next record (2 + 7 bytes) crosses the end.
    r.write(new Uint8Array(10));
    r.read();
    expect(r.writeRecord(bytes(1, 2, 3, 4, 5, 6, 7))).toBe(true);
    expect(r.writeRecord(bytes(8))).toBe(true);
    expect([...r.readRecord()!]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect([...r.readRecord()!]).toEqual([8]);
    expect(r.readRecord()).toBeUndefined();
  });

  it('drops a whole record that does not fit and counts it', () => {
    const r = ring(16);
    expect(r.writeRecord(new Uint8Array(10))).toBe(true); // 12 bytes used
    expect(r.writeRecord(new Uint8Array(3))).toBe(false); // needs 5, 4 free
    expect(r.writeRecord(new Uint8Array(2))).toBe(true);
    expect(r.dropped).toBe(1);
    expect(r.readRecord()!.length).toBe(10);
    expect(r.readRecord()!.length).toBe(2);
    expect(r.readRecord()).toBeUndefined();
  });

  it('keeps working after the 32-bit counters wrap', () => {
    const buffer = new SharedArrayBuffer(SharedRing.bytesFor(8));
    const header = new Int32Array(buffer, 0, 2);
    header[0] = header[1] = -3; // 3 bytes before 2^32
    const r = new SharedRing(buffer, 0, 8);
    expect(r.write(bytes(1, 2, 3, 4, 5))).toBe(5);
    expect(r.used).toBe(5);
    expect([...r.read()]).toEqual([1, 2, 3, 4, 5]);
  });

  it('two views of one buffer (as page and worker hold them) see each other', () => {
    const buffer = new SharedArrayBuffer(SharedRing.bytesFor(32) + 64);
    const producer = new SharedRing(buffer, 64, 32);
    const consumer = new SharedRing(buffer, 64, 32);
    producer.writeRecord(bytes(42, 43));
    expect([...consumer.readRecord()!]).toEqual([42, 43]);
    expect(producer.used).toBe(0);
  });

  it('refuses a capacity that is not a power of two, and a buffer too small', () => {
    expect(() => ring(12)).toThrow(/power of two/);
    expect(() => new SharedRing(new SharedArrayBuffer(20), 0, 8)).toThrow(/does not fit/);
  });

  it('waitForData resolves when the producer publishes, before its timeout', async () => {
    const r = ring(16);
    const started = Date.now();
    const waiting = r.waitForData(5000);
    setTimeout(() => r.write(bytes(1)), 20);
    await waiting;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(r.used).toBe(1);
  });
});
