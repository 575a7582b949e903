import { describe, expect, it } from 'vitest';
import { StopReason } from '../../src/cpu/cpu-core.ts';
import { VcpuScheduler, type ScheduledCpu } from '../../src/machine/vcpu-scheduler.ts';

/** A CPU stand-in that records turns: which vCPU ran, with what budget and pause-exit setting. */
class FakeCpu implements ScheduledCpu {
  current = 0;
  readonly turns: { vcpu: number; budget: number; pauseExit: boolean }[] = [];
  readonly work: boolean[];
  private pauseExit = false;
  /** What run() does for a vCPU (default: use the whole budget). */
  behaviour: (vcpu: number, budget: number) => StopReason = () => StopReason.Budget;

  constructor(readonly vcpuCount: number) {
    this.work = new Array(vcpuCount).fill(true);
  }
  select(vcpu: number): void {
    this.current = vcpu;
  }
  run(budget: number): StopReason {
    this.turns.push({ vcpu: this.current, budget, pauseExit: this.pauseExit });
    return this.behaviour(this.current, budget);
  }
  runnable(vcpu: number): boolean {
    return this.work[vcpu];
  }
  setPauseExit(on: boolean): void {
    this.pauseExit = on;
  }
}

describe('VcpuScheduler', () => {
  it('gives every runnable vCPU one turn per round, in order, capped by the quantum and the budget', () => {
    const cpu = new FakeCpu(3);
    const scheduler = new VcpuScheduler(cpu, 500);
    const after: number[] = [];
    expect(scheduler.runRound(() => 10_000, (v) => (after.push(v), true))).toBe(3);
    expect(cpu.turns.map((t) => [t.vcpu, t.budget])).toEqual([[0, 500], [1, 500], [2, 500]]);
    expect(after).toEqual([0, 1, 2]);
    cpu.turns.length = 0;
    // The next timer event is 120 instructions away: no turn runs past it.
    scheduler.runRound(() => 120, () => true);
    expect(cpu.turns.map((t) => t.budget)).toEqual([120, 120, 120]);
  });

  it('skips halted and waiting vCPUs, and reports a round where nobody could run', () => {
    const cpu = new FakeCpu(3);
    cpu.work[1] = false;
    const scheduler = new VcpuScheduler(cpu, 100);
    expect(scheduler.runRound(() => 1000, () => true)).toBe(2);
    expect(cpu.turns.map((t) => t.vcpu)).toEqual([0, 2]);
    cpu.work.fill(false);
    expect(scheduler.anyRunnable()).toBe(false);
    expect(scheduler.runRound(() => 1000, () => true)).toBe(0);
  });

  it('lets PAUSE end a turn only when another vCPU has work', () => {
    const cpu = new FakeCpu(2);
    const scheduler = new VcpuScheduler(cpu, 100);
    scheduler.runRound(() => 1000, () => true);
    expect(cpu.turns.map((t) => t.pauseExit)).toEqual([true, true]);
    cpu.turns.length = 0;
    cpu.work[1] = false;
    scheduler.runRound(() => 1000, () => true);
    expect(cpu.turns).toEqual([{ vcpu: 0, budget: 100, pauseExit: false }]);
  });

  it('ends a round when the machine says so, and starts the next where it stopped', () => {
    const cpu = new FakeCpu(3);
    const scheduler = new VcpuScheduler(cpu, 100);
    cpu.behaviour = (vcpu) => (vcpu === 1 ? StopReason.Reset : StopReason.Budget);
    const reasons: StopReason[] = [];
    expect(scheduler.runRound(() => 1000, (_v, r) => (reasons.push(r), r !== StopReason.Reset))).toBe(2);
    expect(reasons).toEqual([StopReason.Budget, StopReason.Reset]);
    cpu.turns.length = 0;
    cpu.behaviour = () => StopReason.Budget;
    scheduler.runRound(() => 1000, () => true);
    expect(cpu.turns.map((t) => t.vcpu)).toEqual([2, 0, 1]);
  });

  it('refuses a quantum that is not a positive integer', () => {
    expect(() => new VcpuScheduler(new FakeCpu(1), 0)).toThrow(RangeError);
    expect(() => new VcpuScheduler(new FakeCpu(1), 2.5)).toThrow(RangeError);
  });
});
