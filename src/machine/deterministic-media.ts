/**
 * Deterministic mode for asynchronous media. Every request a drive makes completes at a guest
 * time fixed by the request itself (when it was issued, plus a latency that depends only on its
 * size), never when the host happens to deliver the data. If the data is late, the machine
 * stalls (the CPU does not run) until it arrives; if it is early, the drive does not see it
 * before the due time. Either way the guest sees the same completion instruction for
 * instruction, on a fast or a slow host, from a file or over HTTP.
 *
 * How: each request's promise is held behind a gate that a clock event opens at the due time.
 * The drive's completion callbacks then run as microtasks; the machine reports itself stalled
 * until they have run (`stalled`, `whenDueSettled()`), so the run loop awaits them before the
 * CPU goes on.
 */
import type { Clock } from '../bus/clock.ts';
import type { BlockBackend } from '../storage/block-backend.ts';

/** Guest time a request takes: a fixed access time plus the transfer at about 250 MB/s. */
export function requestLatencyNs(bytes: number): number {
  return 50_000 + bytes * 4;
}

const ignore = () => undefined;

export class MediaGate {
  /** Requests past their due time whose completion has not run yet. */
  private readonly due = new Set<Promise<void>>();
  private pendingCount = 0;

  constructor(private readonly clock: Clock) {}

  /** True while a request is due but its data (or its completion callback) is not in yet. */
  get stalled(): boolean {
    return this.due.size > 0;
  }

  /** Requests issued and not yet completed (due or not). */
  get inFlight(): number {
    return this.pendingCount;
  }

  /** Resolves once every due request has completed and its callbacks have run. */
  async whenDueSettled(): Promise<void> {
    while (this.due.size) await Promise.all([...this.due]);
  }

  /** Start `operation` now; its result is released to the caller at now + latency. */
  hold<T>(bytes: number, operation: () => Promise<T>): Promise<T> {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const data = operation();
    data.catch(ignore); // a failure is reported through `result`, after the gate
    const result = gate.then(() => data);
    this.pendingCount++;
    this.clock.schedule(this.clock.now() + requestLatencyNs(bytes), () => {
      open();
      // Registered now, after the drive attached its callbacks: this settles after they ran.
      const done: Promise<void> = result.then(ignore, ignore).then(() => {
        this.due.delete(done);
        this.pendingCount--;
      });
      this.due.add(done);
    });
    return result;
  }
}

/** A block backend whose every answer passes through a MediaGate. */
export class GatedBackend implements BlockBackend {
  constructor(
    readonly base: BlockBackend,
    private readonly gate: MediaGate,
  ) {}

  get size(): number {
    return this.base.size;
  }

  get readOnly(): boolean {
    return this.base.readOnly;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.gate.hold(length, () => this.base.read(offset, length));
  }

  write(offset: number, data: Uint8Array): Promise<void> {
    const copy = data.slice(); // the drive may reuse its buffer while the write waits
    return this.gate.hold(copy.length, () => this.base.write(offset, copy));
  }

  flush(): Promise<void> {
    return this.gate.hold(0, () => this.base.flush());
  }
}
