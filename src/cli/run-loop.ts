/**
 * What the scheduler (multi-run.ts) needs of a VM's run (`RunnableVm`), how a run ends, and
 * `VmRunLoop`: a bare Machine run in batches of host time with a serial pattern and the power
 * policies, for tests that drive machines they built themselves. `webhvm run` runs its VMs
 * through their Sessions instead (session-vm.ts). Node-only helpers are not used here.
 */
import type { Machine, MachineEvent } from '../machine/machine.ts';
import type { IdleWake } from '../machine/idle-wake.ts';

/**
 * How a VM's run ended. `stopped`: it was still running when the run ended for the other VMs
 * (every pattern matched, or another VM failed).
 */
export type EndEvent = 'matched' | 'poweroff' | 'reboot' | 'crash' | 'timeout' | 'stopped';
export type PowerPolicy = 'destroy' | 'restart' | 'preserve';

export interface RunLoopOptions {
  until?: RegExp;
  /** Wall-clock limit in seconds (Infinity for none). */
  timeoutSeconds: number;
  onPoweroff: PowerPolicy;
  onReboot: PowerPolicy;
  onCrash: PowerPolicy;
  /** Serial text so far (COM1), owned by the caller, checked against `until`. */
  serialText: () => string;
  /** Told about each guest power event and how it was handled. */
  onNote?: (message: string) => void;
}

export interface RunResult {
  event: EndEvent;
  error?: unknown;
}

const yieldToHost = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What a scheduler needs of a VM's run. */
export interface RunnableVm {
  /**
   * Runs the VM for about `budgetMs` of wall-clock time (less when the guest goes idle or an
   * event ends the batch; 0: one slice). Returns how the run ended, or undefined while it goes on.
   */
  runBatch(budgetMs: number): RunResult | undefined;
  /** True while the guest waits for something only asynchronous I/O can bring. */
  readonly idle: boolean;
  /** Resolves when no disk request of the VM is in flight. */
  whenMediaIdle(): Promise<void>;
  /** What the VM's next batch must wait for on the host (late disk data, a snapshot being written), if anything. */
  hostWait?(): Promise<void> | undefined;
  /** Guest time (ns) of a VM in virtual time; undefined when its guest time follows the host clock. */
  guestTimeNs?(): number | undefined;
  /** Virtual time: the VM's guest time goes no further than `ns` until told otherwise. */
  limitGuestTime?(ns: number): void;
}

/** One VM's run: batches of slices, the --until check and the power policies between them. */
export class VmRunLoop implements RunnableVm {
  private checkedLength = 0;
  private stuckNoted = false;

  constructor(
    readonly machine: Machine,
    private readonly options: Omit<RunLoopOptions, 'timeoutSeconds'>,
  ) {}

  get idle(): boolean {
    return this.machine.idle || this.waitingForHostClock;
  }

  /** Real-time mode: halted until a timer the host clock has not reached yet. */
  private get waitingForHostClock(): boolean {
    const m = this.machine;
    return m.setup.hostClockMs !== undefined && m.cpu.halted && m.nextEventDelayMs() > 0;
  }

  whenMediaIdle(): Promise<void> {
    return this.machine.whenMediaIdle();
  }

  runBatch(budgetMs: number): RunResult | undefined {
    const { machine, options } = this;
    let event: MachineEvent | undefined;
    try {
      const batchEnd = Date.now() + budgetMs;
      do {
        event = machine.runSlice();
        if (event || this.idle) break;
      } while (Date.now() < batchEnd);
    } catch (error) {
      return { event: 'crash', error };
    }
    if (options.until) {
      const text = options.serialText();
      if (text.length !== this.checkedLength) {
        this.checkedLength = text.length;
        if (options.until.test(text)) return { event: 'matched' };
      }
    }
    if (event) {
      const kind = event === 'poweroff' ? 'poweroff' : 'reboot';
      const policy = kind === 'poweroff' ? options.onPoweroff : options.onReboot;
      if (policy === 'restart') {
        options.onNote?.(`guest ${event === 'triple-fault' ? 'triple-faulted' : event === 'poweroff' ? 'powered off' : 'rebooted'}: restarting (on_${kind}='restart')`);
        machine.reset();
        return undefined;
      }
      const outcome = policy === 'preserve'
        ? `VM preserved, stopped with its final state and screen for inspection (on_${kind}='preserve')`
        : `VM destroyed (on_${kind}='destroy')`;
      options.onNote?.(`guest ${event === 'triple-fault' ? 'triple-faulted (a reboot)' : event}: ${outcome}`);
      return { event: kind };
    }
    if (machine.idle && machine.cpu.halted && !(machine.cpu.eflags & 0x200) && !this.stuckNoted) {
      this.stuckNoted = true;
      options.onNote?.('guest halted with interrupts disabled: nothing can wake it');
    }
    return undefined;
  }
}

/**
 * Between batches: let the host run (disk reads, stdin). When every VM is idle, first wait for
 * a disk request of one of them to finish, a network frame (`wake`), or 10 ms.
 */
export async function pauseForHost(loops: readonly RunnableVm[], wake?: IdleWake): Promise<void> {
  if (loops.length && loops.every((l) => l.idle)) {
    await Promise.race([...loops.map((l) => l.whenMediaIdle()), wake ? wake.sleep(10) : sleep(10)]);
  }
  // Always give timers and I/O callbacks (stdin) a turn, not only promise callbacks.
  await yieldToHost();
}

export async function runUntilEnd(machine: Machine, options: RunLoopOptions): Promise<RunResult> {
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const loop = new VmRunLoop(machine, options);
  for (;;) {
    const result = loop.runBatch(20);
    if (result) return result;
    if (Date.now() >= deadline) return { event: 'timeout' };
    await pauseForHost([loop]);
  }
}
