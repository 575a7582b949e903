/**
 * The worker's deterministic mode: the page's Machine runs in virtual time with the MediaGate
 * (MachineSetup.deterministic, as `webhvm run --deterministic`), driven by the harness Session
 * the Node runner and `webhvm test` use (src/harness/session.ts): input is taken and logged at
 * run-loop boundaries, serial goals stop at the exact instruction, the fingerprint is the same
 * computation. Runs go one at a time; a newer run ends the older one at its next boundary.
 */
import { Session, type RunGoal, type RunOutcome } from '../harness/session.ts';
import { formatInputLog, type InputAction } from '../harness/input-log.ts';
import { formatFingerprint } from '../machine/fingerprint.ts';
import type { DomainConfig, IdeVdev } from '../config/domain-config.ts';
import type { Machine } from '../machine/machine.ts';
import type { BlockBackend } from '../storage/block-backend.ts';
import type { RunRequest, RunResult } from './deterministic-api.ts';

const VDEVS: IdeVdev[] = ['hda', 'hdb', 'hdc', 'hdd'];

export interface DeterministicRunnerHooks {
  /** About every 20 ms of host time while running: flush serial output, measure speed. */
  hostTurn(): void;
  /** At every run-loop boundary, before input is taken (feed paced key presses with `input`). */
  boundary(): void;
  note(message: string): void;
}

export class DeterministicRunner {
  readonly session: Session;
  private machineRef: Machine | undefined;
  /** Bumped by every run and halt: a run whose number is not current stops at its next boundary. */
  private generation = 0;
  private chain: Promise<unknown> = Promise.resolve();
  /** CD images opened for `media` inputs, by the path the input names. */
  private readonly prepared = new Map<string, BlockBackend>();
  private preparedCount = 0;

  constructor(config: DomainConfig, hooks: DeterministicRunnerHooks) {
    this.session = new Session({
      onPoweroff: config.onPoweroff,
      onReboot: config.onReboot,
      onNote: hooks.note,
      onHostTurn: hooks.hostTurn,
      onBoundary: hooks.boundary,
      changeMedia: (drive, path) => this.changeMedia(drive, path),
    });
  }

  attach(machine: Machine): void {
    this.machineRef = machine;
    this.session.attach(machine);
  }

  private get machine(): Machine {
    if (!this.machineRef) throw new Error('deterministic run: no machine attached');
    return this.machineRef;
  }

  /** Run to `goal` after any earlier run has ended (a newer run or halt() ends this one). */
  run(goal: RunGoal): Promise<RunOutcome> {
    const mine = ++this.generation;
    const next = this.chain.then(() => this.session.run({ ...goal, stop: () => this.generation !== mine }));
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** End the current run at its next boundary; resolves when it has ended. */
  async halt(): Promise<void> {
    this.generation++;
    await this.chain;
  }

  fingerprintLine(): string {
    return formatFingerprint(this.session.fingerprint());
  }

  inputLogText(): string {
    return formatInputLog(this.session.inputLog);
  }

  /** Keep an opened CD image for a later `media` input; returns the path that input names. */
  prepare(name: string, backend: BlockBackend): string {
    const path = `${name}#${++this.preparedCount}`;
    this.prepared.set(path, backend);
    return path;
  }

  /** Check an input before it is queued (a bad one would otherwise end the run when taken). */
  input(action: InputAction): void {
    if (action.kind === 'media') {
      const index = VDEVS.indexOf(action.drive as IdeVdev);
      if (!this.machine.cdroms.has(index)) throw new Error(`${action.drive} is not a CD-ROM drive of this machine`);
      if (action.path !== null && !this.prepared.has(action.path)) throw new Error(`${action.path}: not opened with prepareCd first`);
    }
    this.session.input(action);
  }

  private changeMedia(drive: string, path: string | null): void {
    const m = this.machine;
    const cd = m.cdroms.get(VDEVS.indexOf(drive as IdeVdev));
    if (!cd) throw new Error(`${drive} is not a CD-ROM drive`);
    if (path === null) return cd.eject();
    const backend = this.prepared.get(path);
    if (!backend) throw new Error(`${drive}: image ${path} was not opened before the insert`);
    cd.insert(m.gateMedia(backend));
  }
}

/** A RunRequest from the page as the Session's goal (a bad regular expression or number throws). */
export function goalFromRequest(request: RunRequest, machine: Machine, serialLength: number): RunGoal {
  const regex = (source: string | undefined, flags: string | undefined, what: string) => {
    if (source === undefined) return undefined;
    try {
      return new RegExp(source, flags);
    } catch (e) {
      throw new Error(`runUntil: ${what}: ${(e as Error).message}`);
    }
  };
  if (request.insns !== undefined && !/^\d+$/.test(request.insns)) throw new Error(`runUntil: insns must be a decimal count, got '${request.insns}'`);
  if (request.forNs !== undefined && !(request.forNs >= 0)) throw new Error(`runUntil: forNs must be a guest time in ns (0 or more), got ${request.forNs}`);
  const goal: RunGoal = {
    serial: regex(request.serial, request.serialFlags, 'serial'),
    serialFrom: request.serialFromPowerOn ? 0 : serialLength,
    screen: regex(request.screen, request.screenFlags, 'screen'),
    insns: request.insns === undefined ? undefined : BigInt(request.insns),
    ns: request.forNs === undefined ? undefined : machine.clock.now() + request.forNs,
    ioIdle: request.ioIdle,
    timeoutMs: request.timeoutMs,
  };
  if (!goal.serial && !goal.screen && goal.insns === undefined && goal.ns === undefined && !goal.ioIdle) {
    throw new Error('runUntil: give a goal (serial, screen, insns, forNs or ioIdle)');
  }
  return goal;
}

export function runResult(outcome: RunOutcome, machine: Machine): RunResult {
  const result: RunResult = { end: outcome.end, insns: machine.cpu.totalInstructions.toString(), ns: machine.clock.now() };
  if (outcome.error !== undefined) result.error = (outcome.error as Error)?.stack ?? String(outcome.error);
  return result;
}
