/**
 * Time-sharing of the vCPUs of one CPU core, as a hypervisor shares one physical CPU among them:
 * rounds in which every vCPU that has work runs one turn of at most `quantum` instructions,
 * round-robin. Halted vCPUs (with nothing to wake them) and vCPUs waiting for a start-up IPI are
 * skipped. A turn ends early at a PAUSE when another vCPU has work (a spin-wait gives its time to
 * the vCPU it waits for), at HLT, or when a device asks.
 *
 * Instructions run whole between switches, so a LOCK-prefixed or XCHG memory operation is atomic
 * with respect to every other vCPU. After each turn the machine moves guest time forward by the
 * instructions that turn retired (`afterTurn`): guest time is the sum over all vCPUs, like the
 * machine-wide TSC, so timers and the TSC agree whichever vCPUs run.
 */
import type { CpuCore, StopReason } from '../cpu/cpu-core.ts';

/** Instructions per turn: short enough for Linux's cross-CPU handshakes, long enough to amortise a switch. */
export const DEFAULT_VCPU_QUANTUM = 4000;

export type ScheduledCpu = Pick<CpuCore, 'vcpuCount' | 'current' | 'select' | 'run' | 'runnable' | 'setPauseExit'>;

export class VcpuScheduler {
  /** Where the next round starts, so a round cut short does not favour the low vCPUs. */
  private cursor = 0;

  constructor(
    private readonly cpu: ScheduledCpu,
    readonly quantum = DEFAULT_VCPU_QUANTUM,
  ) {
    if (!Number.isInteger(quantum) || quantum < 1) throw new RangeError(`vCPU quantum must be a positive integer, got ${quantum}`);
  }

  /** The vCPU the next round starts with: part of a snapshot, so a restored machine takes the same turns. */
  get nextVcpu(): number {
    return this.cursor;
  }

  set nextVcpu(vcpu: number) {
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= this.cpu.vcpuCount) throw new RangeError(`no vCPU ${vcpu} (this core has ${this.cpu.vcpuCount})`);
    this.cursor = vcpu;
  }

  /** Whether any vCPU has work now. */
  anyRunnable(): boolean {
    for (let i = 0; i < this.cpu.vcpuCount; i++) if (this.cpu.runnable(i)) return true;
    return false;
  }

  /**
   * One round. `budget()` caps each turn (the machine passes the instructions left until its next
   * timer event); `afterTurn` runs after every turn (guest time, device events, a triple fault)
   * and returns false to end the round (a machine event such as reset or power-off is pending).
   * Returns how many vCPUs ran: 0 means every vCPU is halted or waits for SIPI.
   */
  runRound(budget: () => number, afterTurn: (vcpu: number, reason: StopReason) => boolean): number {
    const n = this.cpu.vcpuCount;
    let turns = 0;
    const first = this.cursor;
    for (let k = 0; k < n; k++) {
      const vcpu = (first + k) % n;
      if (!this.cpu.runnable(vcpu)) continue;
      this.cpu.select(vcpu);
      this.cpu.setPauseExit(this.othersRunnable(vcpu));
      const reason = this.cpu.run(Math.max(1, Math.min(this.quantum, budget())));
      turns++;
      this.cursor = (vcpu + 1) % n;
      if (!afterTurn(vcpu, reason)) break;
    }
    return turns;
  }

  private othersRunnable(vcpu: number): boolean {
    for (let i = 0; i < this.cpu.vcpuCount; i++) if (i !== vcpu && this.cpu.runnable(i)) return true;
    return false;
  }
}
