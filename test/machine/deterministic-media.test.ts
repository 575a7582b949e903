import { describe, expect, it } from 'vitest';
import { EventClock } from '../../src/machine/event-clock.ts';
import { MediaGate, GatedBackend, requestLatencyNs } from '../../src/machine/deterministic-media.ts';
import { MemoryBackend } from '../../src/storage/memory-backend.ts';
import type { BlockBackend } from '../../src/storage/block-backend.ts';

const settle = () => new Promise((r) => setTimeout(r, 5));

describe('deterministic media', () => {
  it('an answer that is already there is not seen before its due guest time', async () => {
    const clock = new EventClock();
    const gate = new MediaGate(clock);
    const disk = new GatedBackend(new MemoryBackend(new Uint8Array(4096).fill(7)), gate);
    let got: Uint8Array | undefined;
    void disk.read(0, 512).then((d) => (got = d));
    await settle();
    expect(got).toBeUndefined();
    expect(gate.inFlight).toBe(1);
    const due = requestLatencyNs(512);
    clock.advanceTo(due - 1);
    await settle();
    expect(got).toBeUndefined();
    clock.advanceTo(due);
    expect(gate.stalled).toBe(true); // due: the machine must not run until the callback ran
    await gate.whenDueSettled();
    expect(got?.[0]).toBe(7);
    expect(gate.stalled).toBe(false);
    expect(gate.inFlight).toBe(0);
  });

  it('late data stalls the machine until it arrives; failures arrive at the due time too', async () => {
    const clock = new EventClock();
    const gate = new MediaGate(clock);
    let release!: () => void;
    const slow: BlockBackend = {
      size: 4096, readOnly: true,
      read: () => new Promise((r) => (release = () => r(new Uint8Array(512).fill(1)))),
      write: () => Promise.reject(new Error('read-only')), flush: async () => {},
    };
    const disk = new GatedBackend(slow, gate);
    let got: Uint8Array | undefined;
    void disk.read(0, 512).then((d) => (got = d));
    let failure: unknown;
    void disk.write(0, new Uint8Array(512)).catch((e) => (failure = e));
    clock.advanceTo(1e9);
    expect(gate.stalled).toBe(true);
    await settle();
    expect(gate.stalled).toBe(true);
    expect(got).toBeUndefined();
    release();
    await gate.whenDueSettled();
    expect(got?.[0]).toBe(1);
    expect((failure as Error).message).toBe('read-only');
  });
});
