import type { Clock, TimerHandle } from '../bus/clock.ts';

interface Timer extends TimerHandle {
  at: number;
  seq: number;
  callback: (nowNs: number) => void;
  cancelled: boolean;
}

/**
 * The machine's clock and event queue. Whoever drives the machine moves time forward with
 * advanceTo(); due events run in time order (ties in scheduling order). Device unit tests use
 * it directly as a virtual clock.
 */
export class EventClock implements Clock {
  private time = 0;
  private heap: Timer[] = [];
  private nextId = 1;
  private seq = 0;

  now(): number {
    return this.time;
  }

  schedule(atNs: number, callback: (nowNs: number) => void): TimerHandle {
    const t: Timer = { id: this.nextId++, at: Math.max(atNs, this.time), seq: this.seq++, callback, cancelled: false };
    this.push(t);
    return t;
  }

  cancel(handle: TimerHandle | undefined): void {
    if (handle) (handle as Timer).cancelled = true;
  }

  /** Guest time of the earliest pending event, or Infinity. */
  nextEventTime(): number {
    this.dropCancelled();
    return this.heap.length ? this.heap[0].at : Infinity;
  }

  /** Move time to `ns` (never backwards), running every event due by then. */
  advanceTo(ns: number): void {
    for (;;) {
      this.dropCancelled();
      const t = this.heap[0];
      if (!t || t.at > ns) break;
      this.pop();
      this.time = Math.max(this.time, t.at);
      t.callback(this.time);
    }
    this.time = Math.max(this.time, ns);
  }

  /** Move time forward by `ns`. */
  advanceBy(ns: number): void {
    this.advanceTo(this.time + ns);
  }

  /** Set the time without running events (restoring a snapshot). */
  setTime(ns: number): void {
    this.time = ns;
  }

  /**
   * Drop every pending event (restoring a snapshot). Pending events are not saved: each
   * device's loadState re-arms its own timers from its saved state, so the queue comes back
   * complete and nothing the fresh machine scheduled at power-on fires out of turn.
   */
  clearEvents(): void {
    for (const t of this.heap) t.cancelled = true;
    this.heap = [];
  }

  /** Number of live pending events (for tests and diagnostics). */
  get pendingEvents(): number {
    return this.heap.filter((t) => !t.cancelled).length;
  }

  private dropCancelled(): void {
    while (this.heap.length && this.heap[0].cancelled) this.pop();
  }

  private before(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l], h[m])) m = l;
        if (r < h.length && this.before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
