/**
 * Guest memory for device tests: the machine's real GuestMemory over a plain array, with a log
 * of the bus-master writes a test can assert on.
 */
import { GuestMemory } from '../../src/machine/guest-memory.ts';

export class TestMemory extends GuestMemory {
  readonly bytes: Uint8Array;
  /** [address, length] of every write, in order. */
  writes: [number, number][] = [];

  constructor(size: number) {
    const bytes = new Uint8Array(size);
    super(bytes);
    this.bytes = bytes;
  }

  override write(address: number, src: Uint8Array): void {
    this.writes.push([address, src.length]);
    super.write(address, src);
  }
}
