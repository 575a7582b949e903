/**
 * Several VMs in one process, taking turns: each runs a batch of slices (a few milliseconds of
 * host time) in order, then the host gets a turn for disk reads and input. VMs on the same
 * bridge exchange frames synchronously through their shared switch, so no VM waits for
 * another. The run ends when every VM that has a pattern matched it (or, when none has one,
 * every VM ended), when one VM fails, or at the timeout. A VM that matched keeps running until
 * the run ends: the others may still talk to it.
 *
 * In lockstep (`webhvm run`), a turn is one slice of each VM in order, and rounds go on until
 * about `batchMs` of host time passed; a VM that waits for the host (late disk data, a snapshot
 * being written) is waited for before the next round. So the interleaving of the VMs depends on
 * their guest work only, never on the host's speed: with deterministic machines, two runs are
 * the same run. VMs in virtual time are also kept within GUEST_TIME_STEP_NS of guest time of
 * each other (none runs past the slowest one's time plus that step), so a frame one sends
 * reaches the others at about the same guest time, as on a real network; otherwise a halted VM
 * would skip ahead through its timers while the others work, and see round trips of seconds.
 */
import { pauseForHost, type RunnableVm, type RunResult } from './run-loop.ts';
import type { IdleWake } from '../machine/idle-wake.ts';

/** How far (ns of guest time) a VM in virtual time may run ahead of the slowest one, in lockstep. */
export const GUEST_TIME_STEP_NS = 1_000_000;

export interface ScheduledVm {
  loop: RunnableVm;
  /** The VM has an --until pattern: the run waits for it to match, and a power event fails it. */
  hasPattern: boolean;
}

export interface MultiRunOptions {
  /** Wall-clock limit in seconds (Infinity for none). */
  timeoutSeconds: number;
  /** Host milliseconds per VM per turn (in lockstep: of rounds between the host's turns). */
  batchMs?: number;
  /** One slice per VM per round, the host waited for before a round (see above). */
  lockstep?: boolean;
  /** Ends the host's idle wait early (a network frame arrived from a relay). */
  wake?: IdleWake;
}

/** Whether a VM's end fails the run. */
export function endFails(result: RunResult, hasPattern: boolean): boolean {
  switch (result.event) {
    case 'matched': case 'stopped': return false;
    case 'poweroff': case 'reboot': return hasPattern;
    default: return true;
  }
}

/** Runs every VM to its end; the results are in the order of `vms`. */
export async function runMachines(vms: readonly ScheduledVm[], options: MultiRunOptions): Promise<RunResult[]> {
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const lockstep = options.lockstep ?? false;
  const batchMs = options.batchMs ?? (vms.length > 1 && !lockstep ? 10 : 20);
  const results: (RunResult | undefined)[] = vms.map(() => undefined);
  /** Still scheduled: not ended, or matched and still alive. */
  const alive = vms.map(() => true);
  const anyPattern = vms.some((vm) => vm.hasPattern);
  const finish = (event: RunResult['event']) => results.map((r) => r ?? { event });
  const running = () => vms.filter((_, i) => alive[i]).map((vm) => vm.loop);
  for (;;) {
    const turnEnd = Date.now() + batchMs;
    let ended = false;
    do {
      if (lockstep) limitGuestTimes(running());
      for (let i = 0; i < vms.length && !ended; i++) {
        if (!alive[i]) continue;
        const result = vms[i].loop.runBatch(lockstep ? 0 : batchMs);
        if (!result) continue;
        if (results[i]) {
          // After its match: only an emulator failure changes the VM's result.
          if (result.event === 'matched') continue;
          alive[i] = false;
          if (result.event !== 'crash') continue;
        }
        results[i] = result;
        if (result.event !== 'matched') alive[i] = false;
        if (endFails(result, vms[i].hasPattern)) ended = true;
      }
      if (ended) return finish('stopped');
      // Without patterns every VM runs to its own end; with them, VMs without one do not hold the run.
      const waitingFor = vms.filter((vm, i) => !results[i] && (vm.hasPattern || !anyPattern));
      if (waitingFor.length === 0) return finish('stopped');
    } while (lockstep && Date.now() < turnEnd && !running().some((l) => l.hostWait?.()) && !running().every((l) => l.idle));
    if (Date.now() >= deadline) return finish('timeout');
    const waits = running().map((l) => l.hostWait?.()).filter((w) => w !== undefined);
    if (waits.length) await Promise.all(waits);
    await pauseForHost(running(), options.wake);
  }
}

/** Lockstep in virtual time: no VM runs past the slowest one's guest time plus one step. */
function limitGuestTimes(loops: readonly RunnableVm[]): void {
  const timed = loops.filter((l) => l.guestTimeNs?.() !== undefined);
  if (timed.length < 2) return;
  const horizon = Math.min(...timed.map((l) => l.guestTimeNs!()!)) + GUEST_TIME_STEP_NS;
  for (const l of timed) l.limitGuestTime?.(horizon);
}
