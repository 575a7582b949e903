/**
 * Time as devices see it. Every device asks this clock for the time and schedules its events
 * here; none reads the host clock. Time is in nanoseconds of guest time (a float64 holds 104
 * days exactly). In real-time mode the machine advances it with the host clock; in
 * deterministic mode it is derived from retired instructions.
 */
export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Current guest time in nanoseconds. */
  now(): number;
  /** Run `callback` when guest time reaches `atNs` (at once, on the next event check, if past). */
  schedule(atNs: number, callback: (nowNs: number) => void): TimerHandle;
  cancel(handle: TimerHandle | undefined): void;
}

export const NS_PER_SECOND = 1_000_000_000;
