/**
 * The page's end of the shared rings (src/worker/io-rings.ts): it allocates them, hands them to
 * the worker once, writes the page's own keyboard, pointer and terminal input into the input
 * ring (waking the worker with Atomics.notify) and reads guest serial output on a short timer,
 * so no event or byte costs a postMessage.
 */
import type { Remote } from 'comlink';
import type { MachineApi } from '../src/worker/machine-api.ts';
import { createIoRings, InputRingWriter, type InputSink, type IoRings } from '../src/worker/io-rings.ts';

/** Serial output is read this often (the terminal paints on its own animation frames). */
const SERIAL_POLL_MS = 16;

export interface PageRings {
  rings: IoRings;
  /** The page's input path: records into the input ring. */
  input: InputSink;
  /** Stops reading serial output. */
  stop(): void;
}

/** Comlink delivers calls in order, so input written before the worker has the rings waits in them. */
export function connectPageRings(api: Remote<MachineApi>, serialOutput: (port: 0 | 1, bytes: Uint8Array) => void): PageRings {
  const rings = createIoRings();
  void api.connectRings(rings.buffer);
  const timer = setInterval(() => {
    for (const port of [0, 1] as const) {
      const ring = rings.serial[port];
      if (ring.used > 0) serialOutput(port, ring.read());
    }
  }, SERIAL_POLL_MS);
  return { rings, input: new InputRingWriter(rings.input), stop: () => clearInterval(timer) };
}
