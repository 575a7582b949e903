import { describe, expect, it } from 'vitest';
import { createIoRings, drainInputRing, InputRingWriter, ioRingsIn, type InputSink } from '../../src/worker/io-rings.ts';
import type { KeyEvent } from '../../src/worker/machine-api.ts';

function recordingSink() {
  const calls: unknown[][] = [];
  const sink: InputSink = {
    keys: (events: KeyEvent[]) => calls.push(['keys', ...events]),
    pointerAbsolute: (...a) => calls.push(['absolute', ...a]),
    pointerRelative: (...a) => calls.push(['relative', ...a]),
    serialInput: (bytes, port) => calls.push(['serial', [...bytes], port]),
  };
  return { calls, sink };
}

describe('io rings: page input records to the worker', () => {
  it('carries keys, pointer events and serial input in order, each with its values', () => {
    const page = createIoRings();
    const worker = ioRingsIn(page.buffer);
    const writer = new InputRingWriter(page.input);
    writer.keys([{ code: 'ShiftLeft', down: true }, { code: 'KeyA', down: false }]);
    writer.pointerRelative(-5, 300, 1, 5);
    writer.pointerAbsolute(0.25, 0.75, 2, -1);
    writer.serialInput(Uint8Array.from([104, 105, 10]));
    writer.serialInput(Uint8Array.from([1]), 1);
    const { calls, sink } = recordingSink();
    expect(drainInputRing(worker.input, sink)).toBe(6);
    expect(calls).toEqual([
      ['keys', { code: 'ShiftLeft', down: true }],
      ['keys', { code: 'KeyA', down: false }],
      ['relative', -5, 300, 1, 5],
      ['absolute', 0.25, 0.75, 2, -1],
      ['serial', [104, 105, 10], 0],
      ['serial', [1], 1],
    ]);
    expect(drainInputRing(worker.input, sink)).toBe(0);
  });

  it('splits a long paste into records and delivers every byte', () => {
    const rings = createIoRings();
    const text = new Uint8Array(10_000).map((_, i) => 32 + (i % 90));
    new InputRingWriter(rings.input).serialInput(text);
    const { calls, sink } = recordingSink();
    drainInputRing(rings.input, sink);
    expect(calls.length).toBe(3);
    expect(calls.flatMap((c) => c[1] as number[])).toEqual([...text]);
  });

  it('clamps huge or non-finite motion instead of wrapping it', () => {
    const rings = createIoRings();
    new InputRingWriter(rings.input).pointerRelative(1e12, Number.NaN, 0, 0);
    const { calls, sink } = recordingSink();
    drainInputRing(rings.input, sink);
    expect(calls[0]).toEqual(['relative', 0x7fffffff, 0, 0, 0]);
  });

  it('drops records when the worker does not drain (the ring counts them), and keeps the older ones', () => {
    const rings = createIoRings();
    const writer = new InputRingWriter(rings.input);
    for (let i = 0; i < 10_000; i++) writer.pointerRelative(1, 0, 0, 0);
    expect(rings.input.dropped).toBeGreaterThan(0);
    const { calls, sink } = recordingSink();
    expect(drainInputRing(rings.input, sink)).toBe(10_000 - rings.input.dropped);
    expect(calls.length).toBe(10_000 - rings.input.dropped);
  });
});
