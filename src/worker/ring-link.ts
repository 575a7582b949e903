/**
 * The worker's end of the page's rings (io-rings.ts): input records are handed to the session
 * (at every run slice, and whenever the page publishes some while the machine is idle, paused
 * or off), and guest serial output is written to the page's serial rings. When a serial ring is
 * full the bytes wait here (up to SERIAL_BACKLOG_BYTES per port, so a page that stops reading
 * cannot grow the worker without end); beyond that they are dropped and counted in the ring.
 */
import { drainInputRing, ioRingsIn, type InputSink, type IoRings } from './io-rings.ts';

const SERIAL_BACKLOG_BYTES = 1 << 20;
/** How long the idle watcher sleeps when nothing arrives (it wakes at once on a notify). */
const WATCH_TIMEOUT_MS = 1000;

export class RingLink {
  readonly rings: IoRings;
  private readonly backlog: [Uint8Array[], Uint8Array[]] = [[], []];
  private readonly backlogBytes = [0, 0];
  private stopped = false;

  constructor(buffer: SharedArrayBuffer, private readonly sink: InputSink) {
    this.rings = ioRingsIn(buffer);
    void this.watch();
  }

  /** Every waiting input record to the sink; returns how many. */
  drainInput(): number {
    return this.stopped ? 0 : drainInputRing(this.rings.input, this.sink);
  }

  /** Guest serial output for `port`, after anything still waiting for room. */
  sendSerial(port: 0 | 1, bytes: Uint8Array): void {
    const queue = this.backlog[port];
    if (bytes.length > 0) {
      queue.push(bytes);
      this.backlogBytes[port] += bytes.length;
    }
    const ring = this.rings.serial[port];
    while (queue.length > 0 && ring.free > 0) {
      const head = queue[0];
      const taken = ring.write(head.subarray(0, ring.free));
      this.backlogBytes[port] -= taken;
      if (taken === head.length) queue.shift();
      else queue[0] = head.subarray(taken);
    }
    // Too much waiting: the oldest bytes go.
    while (this.backlogBytes[port] > SERIAL_BACKLOG_BYTES) {
      const cut = queue.shift()!;
      this.backlogBytes[port] -= cut.length;
      ring.countDropped(cut.length);
    }
  }

  /** Serial bytes still waiting for room in the page's ring. */
  pendingSerial(port: 0 | 1): number {
    return this.backlogBytes[port];
  }

  stop(): void {
    this.stopped = true;
    this.rings.input.wake();
  }

  /** Drains input whenever the page publishes some, also while no run loop is turning. */
  private async watch(): Promise<void> {
    while (!this.stopped) {
      await this.rings.input.waitForData(WATCH_TIMEOUT_MS);
      try {
        this.drainInput();
      } catch {
        // The sink reports its own errors; the watcher must keep running.
      }
    }
  }
}
