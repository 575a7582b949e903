/**
 * The page's deterministic mode over Comlink (docs/reproducible.md, "In the browser"): run to a
 * goal that is itself deterministic (the instruction where a serial match completed, an
 * instruction count, a guest time), take the run's fingerprint, feed input that is logged with
 * its moment. Types only; every value crosses postMessage (regular expressions as source and
 * flags, instruction counts as decimal strings).
 */
import type { InputAction } from '../harness/input-log.ts';
import type { RunEnd } from '../harness/session.ts';

export interface RunRequest {
  /** Stop at the instruction whose COM1 byte completes a match of this regular expression. */
  serial?: string;
  serialFlags?: string;
  /** Search COM1 from power-on (as `webhvm run --until` does) instead of from where this run begins. */
  serialFromPowerOn?: boolean;
  /** Stop when a line of the VGA text screen matches (checked every 10 ms of guest time). */
  screen?: string;
  screenFlags?: string;
  /** Stop at the first boundary at or after this instruction count (decimal). */
  insns?: string;
  /** Stop at the first boundary this much guest time (ns) from now; 0 takes queued input and stops. */
  forNs?: number;
  /** Stop once no disk request is in flight. */
  ioIdle?: boolean;
  /** Host milliseconds before giving up (default: no limit). */
  timeoutMs?: number;
}

export interface RunResult {
  /** 'stopped': paused, powered off or replaced by another run before the goal. */
  end: RunEnd;
  /** What failed, for 'crash'. */
  error?: string;
  /** Instructions retired (decimal) and guest time (ns) where the run ended. */
  insns: string;
  ns: number;
}

export interface DeterministicApi {
  /**
   * Deterministic machines only: run until the goal (from power-on if the machine is off), then
   * pause. A free run (start/resume) is ended at a boundary first.
   */
  runUntil(request: RunRequest): Promise<RunResult>;
  /** `fingerprint: insns=... serial=... screen=... ram=...` as `webhvm run --deterministic` prints it; null unless deterministic. */
  fingerprint(): string | null;
  /** Input taken at the next run-loop boundary and logged with its moment (deterministic machines). */
  input(action: InputAction): void;
  /**
   * Open and check a CD image for a `media` input (deterministic machines): returns the path to
   * put in the input; the disc goes in at the boundary that takes it.
   */
  prepareCd(media: Blob | { url: string }): Promise<string>;
  /** COM1 output since power-on (the last 4 MB); null unless deterministic. */
  serialLog(): string | null;
  /** The input taken so far, as `webhvm run --input-log` writes it; null unless deterministic. */
  inputLog(): string | null;
}
