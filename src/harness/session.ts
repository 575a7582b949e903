/**
 * A deterministic run of one Machine: the run loop the runner (`webhvm run --deterministic`),
 * the test harness (`webhvm test`) and later the page share. It records COM1 (text and a
 * running hash), takes input only at run-loop boundaries and logs it with its virtual moment
 * (or replays such a log), and stops at goals that are themselves deterministic: the
 * instruction whose serial byte completed a match, a boundary at or after an instruction count
 * or a guest time, a text on the VGA screen (checked every 10 ms of guest time). Instruction
 * counts are those of every vCPU together (CpuCore.totalInstructions). Host time
 * only decides when to give up (timeout) and when to let the host's own events run.
 *
 * No Node APIs here: it runs in a browser worker too.
 */
import type { Machine, MachineEvent } from '../machine/machine.ts';
import { Hash64, takeFingerprint, type Fingerprint } from '../machine/fingerprint.ts';
import type { InputAction, InputEvent } from './input-log.ts';

export type PowerPolicy = 'destroy' | 'restart' | 'preserve';

export interface SessionOptions {
  onPoweroff?: PowerPolicy;
  onReboot?: PowerPolicy;
  /** Every byte the guest sends on COM1/COM2 (to echo it). */
  onSerialByte?: (port: 0 | 1, byte: number) => void;
  /** Told about each guest power event and how it was handled. */
  onNote?: (message: string) => void;
  /** Input to feed at the moments recorded in it (replay). */
  replay?: readonly InputEvent[];
  /** Change media for `media` input events (the caller opens images). */
  changeMedia?: (drive: string, path: string | null) => void;
  /** Called at every run-loop boundary before input is taken (the page paces its key queue here). */
  onBoundary?: () => void;
  /** Called before the run gives the host a turn (about every 20 ms of host time while running). */
  onHostTurn?: () => void;
}

export interface RunGoal {
  /** Stop at the instruction whose COM1 byte completes a match (output since this run began). */
  serial?: RegExp;
  /** Like `serial`, but stop only at the end of the slice in which the match completed. */
  serialAtBoundary?: RegExp;
  /** COM1 offset (bytes since power-on) the serial goals search from; default: where this run begins. */
  serialFrom?: number;
  /** Stop when a line of the VGA text screen matches (checked every 10 ms of guest time). */
  screen?: RegExp;
  /** Stop at the first boundary at or after this instruction count. */
  insns?: bigint;
  /** Stop at the first boundary at or after this guest time (ns). */
  ns?: number;
  /** Also wait (at boundaries) until no disk request is in flight: snapshots need this. */
  ioIdle?: boolean;
  /** Host milliseconds before giving up (Infinity for none). */
  timeoutMs?: number;
  /** Keep waiting for host input when the guest is halted with nothing scheduled. */
  interactive?: boolean;
  /** Asked at every boundary: true ends the run there ('stopped'; the page's pause). */
  stop?: () => boolean;
}

export interface SerialRecord {
  hash: number[];
  /** The last COM1 output (up to 64 KiB). */
  tail: string;
  /** COM1 bytes since power-on. */
  length: number;
}

export type RunEnd = 'matched' | 'reached' | 'poweroff' | 'reboot' | 'crash' | 'timeout' | 'stuck' | 'stopped';

export interface RunOutcome {
  end: RunEnd;
  error?: unknown;
}

const SLICE = 200_000;
const SCREEN_CHECK_NS = 10_000_000;
const MAX_TEXT = 4_000_000;
const MATCH_WINDOW = 4096;

/** The host's next turn: setImmediate in Node; a MessageChannel in browsers (setTimeout(0) is clamped to 4 ms there). */
const yieldToHost = (): Promise<void> =>
  new Promise((resolve) => {
    if (typeof setImmediate === 'function') {
      setImmediate(resolve);
      return;
    }
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Session {
  /** COM1 output so far (the oldest part is dropped beyond 4 MB). */
  serialText = '';
  /** Characters dropped from the start of serialText. */
  private dropped = 0;
  private readonly serialHash = new Hash64();
  /** Input taken so far, with its moments: the log `--input-log` writes. */
  readonly inputLog: InputEvent[] = [];
  private readonly queued: InputAction[] = [];
  private replayIndex = 0;
  private machineRef: Machine | undefined;
  /** Serial watches of the current run: [exact stop, stop at the slice's end]. */
  private watches: ({ regex: RegExp; from: number; matched: boolean } | undefined)[] = [];
  private lastScreenCheck = -1;

  constructor(readonly options: SessionOptions = {}) {}

  /** The hook to pass as MachineSetup.serialOutput. */
  readonly serialOutput = (port: 0 | 1, byte: number): void => {
    this.options.onSerialByte?.(port, byte);
    if (port !== 0) return;
    this.serialHash.updateByte(byte);
    this.serialText += String.fromCharCode(byte);
    if (this.serialText.length > MAX_TEXT) {
      const cut = this.serialText.length - MAX_TEXT / 2;
      this.serialText = this.serialText.slice(cut);
      this.dropped += cut;
    }
    this.watches.forEach((w, i) => {
      if (!w || w.matched) return;
      const total = this.dropped + this.serialText.length;
      const start = Math.max(w.from, total - MATCH_WINDOW) - this.dropped;
      if (w.regex.test(this.serialText.slice(Math.max(0, start)))) {
        w.matched = true;
        if (i === 0) this.machine.cpu.requestStop(); // the exact stop: end run() after this OUT
      }
    });
  };

  attach(machine: Machine): void {
    this.machineRef = machine;
  }

  get machine(): Machine {
    if (!this.machineRef) throw new Error('session: no machine attached');
    return this.machineRef;
  }

  /** Total COM1 bytes so far. */
  get serialLength(): number {
    return this.dropped + this.serialText.length;
  }

  /** Hash of every COM1 byte so far (also across a restored snapshot: see restoreSerial). */
  get serialDigest(): string {
    return this.serialHash.hex();
  }

  /** The COM1 record for a snapshot: a restored run goes on hashing where this one was. */
  saveSerial(): SerialRecord {
    return { hash: this.serialHash.saveState(), tail: this.serialText.slice(-65536), length: this.serialLength };
  }

  /** Continue from a snapshot's COM1 record. */
  restoreSerial(record: SerialRecord): void {
    this.serialHash.loadState(record.hash);
    this.serialText = record.tail;
    this.dropped = record.length - record.tail.length;
  }

  fingerprint(): Fingerprint {
    return takeFingerprint(this.machine, this.serialDigest);
  }

  /** Queue input from the host; the machine takes it at the next run-loop boundary. */
  input(action: InputAction): void {
    this.queued.push(action);
  }

  /** Run until `goal` (or a power event the policies do not absorb, a crash or the timeout). */
  async run(goal: RunGoal): Promise<RunOutcome> {
    const machine = this.machine;
    const deadline = Date.now() + (goal.timeoutMs ?? Infinity);
    this.begin(goal);
    try {
      for (;;) {
        const batchEnd = Date.now() + 20;
        do {
          const outcome = this.step();
          if (outcome) return outcome;
          if (machine.idle) break;
        } while (Date.now() < batchEnd);
        this.options.onHostTurn?.();
        if (Date.now() >= deadline) return { end: 'timeout' };
        if (machine.mediaGate?.stalled) {
          await machine.whenMediaIdle();
        } else if (machine.idle) {
          // Without deterministic media a disk answer may still come and wake the guest.
          const mayWake = goal.interactive || this.queued.length || this.replayPending() || !machine.mediaGate;
          if (!mayWake) return { end: 'stuck' };
          await Promise.race([machine.whenMediaIdle(), sleep(10)]);
        } else {
          await yieldToHost();
        }
      }
    } finally {
      this.watches = [];
    }
  }

  // ---- Stepping: a runner that interleaves several machines slice by slice ----

  private stepGoal: RunGoal = {};

  /**
   * Work toward `goal` one slice at a time with step() (run() is begin and steps, with the host's
   * turns between batches). The serial goals search from here, or from goal.serialFrom; `timeoutMs` and
   * `interactive` are the caller's business.
   */
  begin(goal: RunGoal): void {
    const from = goal.serialFrom ?? this.serialLength;
    const watch = (r: RegExp | undefined) => (r ? { regex: new RegExp(r.source, r.flags.replace(/[gy]/g, '')), from, matched: false } : undefined);
    this.stepGoal = goal;
    this.watches = [watch(goal.serial), watch(goal.serialAtBoundary)];
  }

  /**
   * One run-loop boundary and slice toward the goal begun: how the run ended, or undefined while
   * it goes on. Synchronous; the caller awaits the host when the machine is stalled for late
   * disk data or idle (machine.mediaGate, machine.idle). An emulator failure ends it ('crash').
   */
  step(): RunOutcome | undefined {
    const goal = this.stepGoal;
    try {
      if (goal.stop?.()) return { end: 'stopped' };
      this.takeInput();
      if (this.reached(goal)) return { end: 'reached' };
      const event = this.machine.runSlice(this.budget());
      if (this.watches[0]?.matched) return { end: 'matched' };
      const end = event && this.powerEvent(event);
      return end ? { end } : undefined;
    } catch (error) {
      return { end: 'crash', error };
    }
  }

  private reached(goal: RunGoal): boolean {
    const m = this.machine;
    if (goal.ioIdle && ((m.mediaGate?.inFlight ?? 0) > 0 || m.mediaGate?.stalled)) return false;
    if (goal.insns !== undefined && m.cpu.totalInstructions >= goal.insns) return true;
    if (goal.ns !== undefined && m.clock.now() >= goal.ns) return true;
    if (this.watches[1]?.matched) return true;
    if (goal.screen) {
      const tick = Math.floor(m.clock.now() / SCREEN_CHECK_NS);
      if (tick !== this.lastScreenCheck) {
        this.lastScreenCheck = tick;
        const lines = m.screenText();
        if (lines && lines.some((l) => goal.screen!.test(l))) return true;
      }
    }
    // Waiting for idle disks alone: reached now (`serial` is a stop, not a place to reach).
    return goal.ioIdle === true && goal.insns === undefined && goal.ns === undefined && !goal.serialAtBoundary && !goal.screen;
  }

  private powerEvent(event: MachineEvent): RunEnd | undefined {
    const kind = event === 'poweroff' ? 'poweroff' : 'reboot';
    const policy = (kind === 'poweroff' ? this.options.onPoweroff : this.options.onReboot) ?? 'destroy';
    const what = event === 'triple-fault' ? 'triple-faulted' : event === 'poweroff' ? 'powered off' : 'rebooted';
    if (policy === 'restart') {
      this.options.onNote?.(`guest ${what}: restarting (on_${kind}='restart')`);
      this.machine.reset();
      return undefined;
    }
    const outcome = policy === 'preserve'
      ? `VM preserved, stopped with its final state and screen for inspection (on_${kind}='preserve')`
      : `VM destroyed (on_${kind}='destroy')`;
    this.options.onNote?.(`guest ${what}: ${outcome}`);
    return kind;
  }

  // ---- input ----

  private replayPending(): boolean {
    return (this.options.replay?.length ?? 0) > this.replayIndex;
  }

  /** Slice budget: never run past the next replayed input. */
  private budget(): number {
    const next = this.options.replay?.[this.replayIndex];
    if (!next) return SLICE;
    const left = next.insns - this.machine.cpu.totalInstructions;
    return left > 0n && left < BigInt(SLICE) ? Number(left) : SLICE;
  }

  private takeInput(): void {
    this.options.onBoundary?.();
    const m = this.machine;
    const replay = this.options.replay;
    if (replay) {
      for (;;) {
        const next = replay[this.replayIndex];
        if (!next) break;
        const insns = m.cpu.totalInstructions;
        const now = m.clock.now();
        if (next.insns === insns && next.ns === now) {
          this.apply(next.action);
          this.replayIndex++;
          continue;
        }
        if (insns > next.insns || (insns === next.insns && now > next.ns)) {
          throw new Error(`replay diverged: input recorded at insns=${next.insns} ns=${next.ns} was not reached exactly (now insns=${insns} ns=${now})`);
        }
        break;
      }
    }
    while (this.queued.length) this.apply(this.queued.shift()!);
  }

  private apply(action: InputAction): void {
    const m = this.machine;
    this.inputLog.push({ insns: m.cpu.totalInstructions, ns: m.clock.now(), action });
    switch (action.kind) {
      case 'serial':
        m.serial[action.port]?.receive(action.bytes);
        break;
      case 'key':
        if (action.down) m.keyboard.keyDown(action.code);
        else m.keyboard.keyUp(action.code);
        break;
      case 'tablet':
        m.tablet?.pointer(action.x, action.y, action.buttons, action.wheel ?? 0);
        break;
      case 'mouse':
        // USB mouse wheel counts up as away from the user; the PS/2 mouse's the other way.
        if (m.usbMouse) m.usbMouse.move(action.dx, action.dy, -action.wheel, action.buttons);
        else m.mouse.move(action.dx, action.dy, action.wheel, action.buttons);
        break;
      case 'media':
        this.options.changeMedia?.(action.drive, action.path);
        break;
    }
  }
}
