/**
 * One VM of `webhvm run` as the scheduler (multi-run.ts) sees it: its Session stepped a slice
 * at a time toward the run's goals. `--until` stops at the instruction whose COM1 byte
 * completed the match (output since power-on, or since the snapshot's tail for a restored run);
 * with `--save-at` the VM first runs to the save point, on until no disk request is in flight,
 * and saves there, between two slices, so the run that saved is the run that did not. A VM that
 * matched keeps running (the other VMs may need it) with no goal of its own.
 *
 * No Node APIs: files are written through `writeSnapshot`.
 */
import type { Session, RunGoal, RunOutcome } from '../harness/session.ts';
import type { Machine } from '../machine/machine.ts';
import { saveSnapshot } from '../snapshot/machine-snapshot.ts';
import type { RunnableVm, RunResult } from './run-loop.ts';
import type { SaveAt } from './run-options.ts';

export interface SessionVmOptions {
  until?: RegExp;
  saveAt?: SaveAt;
  /** Write a snapshot file (the run goes on once this resolves; a failure ends the VM as a crash). */
  writeSnapshot?: (at: SaveAt, file: Uint8Array, insns: bigint) => Promise<void>;
  onNote?: (message: string) => void;
}

type Phase = 'to-save-point' | 'to-idle-disks' | 'running' | 'matched';

export class SessionVm implements RunnableVm {
  private phase: Phase;
  private saving: Promise<void> | undefined;
  private saved = false;
  private saveError: unknown;
  private stuckNoted = false;

  constructor(
    readonly session: Session,
    private readonly options: SessionVmOptions = {},
  ) {
    const at = options.saveAt;
    this.phase = at ? 'to-save-point' : 'running';
    this.session.begin(this.goal(at ? ('insns' in at ? { insns: at.insns } : { serialAtBoundary: at.serial }) : {}));
  }

  get machine(): Machine {
    return this.session.machine;
  }

  /** True until the snapshot --save-at asked for was taken (a run that ends before it saved nothing). */
  get savePending(): boolean {
    return this.options.saveAt !== undefined && !this.saved;
  }

  /**
   * Halted with nothing scheduled (or, in real time, halted with no interrupt to take until the
   * host clock reaches a timer: a frame another VM just sent makes it busy again).
   */
  get idle(): boolean {
    const m = this.machine;
    return m.idle || (m.setup.hostClockMs !== undefined && m.allVcpusHalted && m.nextEventDelayMs() > 0);
  }

  whenMediaIdle(): Promise<void> {
    return this.machine.whenMediaIdle();
  }

  guestTimeNs(): number | undefined {
    return this.machine.setup.hostClockMs ? undefined : this.machine.clock.now();
  }

  limitGuestTime(ns: number): void {
    this.machine.timeLimitNs = ns;
  }

  /** What the next slice must wait for: late disk data, or the snapshot being written. */
  hostWait(): Promise<void> | undefined {
    if (this.saving) return this.saving;
    return this.machine.mediaGate?.stalled ? this.machine.whenMediaIdle() : undefined;
  }

  runBatch(budgetMs: number): RunResult | undefined {
    if (this.saveError !== undefined) return { event: 'crash', error: this.saveError };
    const batchEnd = Date.now() + budgetMs;
    do {
      const outcome = this.session.step();
      if (outcome) {
        const result = this.ended(outcome);
        if (result) return result;
      }
      if (this.hostWait() || this.idle) break;
    } while (Date.now() < batchEnd);
    const m = this.machine;
    if (m.idle && m.cpu.halted && !(m.cpu.eflags & 0x200) && !this.stuckNoted) {
      this.stuckNoted = true;
      this.options.onNote?.('guest halted with interrupts disabled: nothing can wake it');
    }
    return undefined;
  }

  /** The goal of the current phase, with --until (a VM that matched has none). */
  private goal(extra: RunGoal): RunGoal {
    return { ...(this.options.until ? { serial: this.options.until, serialFrom: 0 } : {}), ...extra };
  }

  /** A step's end: the VM's result, or undefined when the VM goes on (a phase reached). */
  private ended(outcome: RunOutcome): RunResult | undefined {
    switch (outcome.end) {
      case 'matched':
        this.phase = 'matched';
        this.session.begin({});
        return { event: 'matched' };
      case 'reached':
        if (this.phase === 'to-save-point') {
          this.phase = 'to-idle-disks';
          this.session.begin(this.goal({ ioIdle: true }));
        } else if (this.phase === 'to-idle-disks') {
          this.save();
          this.phase = 'running';
          this.session.begin(this.goal({}));
        }
        return undefined;
      case 'poweroff':
      case 'reboot':
        return { event: outcome.end };
      case 'crash':
        return { event: 'crash', error: outcome.error };
      default:
        return { event: 'stopped' };
    }
  }

  /** Save now (the state is taken before this returns); the file is written while the VM waits. */
  private save(): void {
    const at = this.options.saveAt!;
    this.saved = true;
    const insns = this.machine.cpu.totalInstructions;
    const written = saveSnapshot(this.machine, { serial: this.session.saveSerial() })
      .then((file) => this.options.writeSnapshot?.(at, file, insns));
    this.saving = written.then(
      () => { this.saving = undefined; },
      (e: unknown) => {
        this.saving = undefined;
        this.saveError = new Error(`--save-at: no snapshot written: ${(e as Error).message ?? e}`);
      },
    );
  }
}
