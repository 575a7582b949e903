/**
 * What a boot-test script runs against: the machine in this process (SessionTarget, for
 * `webhvm test` in Node) or the page's machine in headless Chromium (`webhvm test --browser`,
 * src/cli/browser-target.ts). run-script.ts speaks only this interface, so a step means the same
 * in both; both end in the same Session (src/harness/session.ts): in the browser the worker runs
 * one. No Node APIs here.
 */
import { encodePng } from '../display/png.ts';
import type { Fingerprint } from '../machine/fingerprint.ts';
import { saveSnapshot } from '../snapshot/machine-snapshot.ts';
import type { InputAction } from './input-log.ts';
import { formatInputLog } from './input-log.ts';
import type { RunEnd, Session } from './session.ts';

/** Where a waiting step stops; at most one of serial, screen, insns, forNs, ioIdle. */
export interface TargetGoal {
  /** The instruction whose COM1 byte completes a match (output since this wait began). */
  serial?: RegExp;
  /** A line of the VGA text screen (checked every 10 ms of guest time). */
  screen?: RegExp;
  /** The first boundary at or after this instruction count. */
  insns?: bigint;
  /** The first boundary this much guest time (ns) from now; 0: the next boundary (input taken there). */
  forNs?: number;
  /** Until no disk request is in flight. */
  ioIdle?: boolean;
  /** Host milliseconds before giving up. */
  timeoutMs: number;
}

export interface TargetOutcome {
  end: RunEnd;
  /** What failed, when end is 'crash'. */
  error?: string;
}

export interface ScriptTarget {
  run(goal: TargetGoal): Promise<TargetOutcome>;
  /** Input taken at the next run-loop boundary (and logged with its moment). */
  input(action: InputAction): Promise<void>;
  fingerprint(): Promise<Fingerprint>;
  /** The screen as PNG. */
  screenshotPng(): Promise<Uint8Array>;
  hasTablet(): Promise<boolean>;
  /** A snapshot file (the disks are idle: run({ ioIdle }) first). */
  snapshot(): Promise<Uint8Array>;
  /** Open a CD image (a file name of the script's) so that a `media` input can insert it at once; returns the input's path. */
  prepareMedia(name: string): Promise<string>;
  /** COM1 output so far (the serial.log of a failure). */
  serialText(): Promise<string>;
  /** The input log so far (formatInputLog's text). */
  inputLog(): Promise<string>;
}

/** A Session in this process (Node, or a browser worker). */
export class SessionTarget implements ScriptTarget {
  constructor(
    readonly session: Session,
    private readonly openMedia: (name: string) => Promise<string> = async () => {
      throw new Error('this run cannot open media');
    },
  ) {}

  async run(goal: TargetGoal): Promise<TargetOutcome> {
    const { forNs, ...rest } = goal;
    const ns = forNs === undefined ? undefined : this.session.machine.clock.now() + forNs;
    const r = await this.session.run({ ...rest, ns });
    return r.error === undefined ? { end: r.end } : { end: r.end, error: (r.error as Error)?.message ?? String(r.error) };
  }

  async input(action: InputAction): Promise<void> {
    this.session.input(action);
  }

  async fingerprint(): Promise<Fingerprint> {
    return this.session.fingerprint();
  }

  async screenshotPng(): Promise<Uint8Array> {
    const frame = this.session.machine.screenshot();
    return encodePng(frame.width, frame.height, frame.rgba);
  }

  async hasTablet(): Promise<boolean> {
    return this.session.machine.tablet !== undefined;
  }

  async snapshot(): Promise<Uint8Array> {
    return saveSnapshot(this.session.machine, { serial: this.session.saveSerial() });
  }

  prepareMedia(name: string): Promise<string> {
    return this.openMedia(name);
  }

  async serialText(): Promise<string> {
    return this.session.serialText;
  }

  async inputLog(): Promise<string> {
    return formatInputLog(this.session.inputLog);
  }
}
