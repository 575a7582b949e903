import { describe, expect, it } from 'vitest';
import { endFails, GUEST_TIME_STEP_NS, runMachines } from '../../src/cli/multi-run.ts';
import type { RunnableVm, RunResult } from '../../src/cli/run-loop.ts';

/** A VM that ends with `end` after `batches` batches (never, without one), logging its turns. */
function fakeVm(name: string, turns: string[], batches = Infinity, end?: RunResult): RunnableVm & { ran: number } {
  return {
    ran: 0,
    idle: false,
    whenMediaIdle: () => Promise.resolve(),
    runBatch(budgetMs: number) {
      expect(budgetMs).toBeGreaterThan(0);
      this.ran++;
      turns.push(name);
      return this.ran >= batches ? end : undefined;
    },
  };
}

/** A VM in virtual time whose every slice would move its guest time on by `stepNs`, up to its limit. */
function timedVm(stepNs: number, slices: number, log: number[][]): RunnableVm & { time: number } {
  let limit = Infinity;
  let ran = 0;
  return {
    time: 0,
    idle: false,
    whenMediaIdle: () => Promise.resolve(),
    guestTimeNs() { return this.time; },
    limitGuestTime(ns: number) { limit = ns; },
    runBatch() {
      this.time = Math.min(limit, this.time + stepNs);
      log.push([this.time]);
      return ++ran >= slices ? { event: 'matched' } : undefined;
    },
  };
}

describe('runMachines', () => {
  it('in lockstep keeps VMs in virtual time within one step of guest time of each other', async () => {
    const log: number[][] = [];
    const skipper = timedVm(4_000_000, 400, log); // halted: jumps 4 ms to its next timer per slice
    const worker = timedVm(100_000, 400, log); // busy: 0.1 ms per slice
    await runMachines([{ loop: skipper, hasPattern: true }, { loop: worker, hasPattern: true }], { timeoutSeconds: 10, lockstep: true });
    expect(worker.time).toBe(400 * 100_000);
    expect(skipper.time - worker.time).toBeLessThanOrEqual(GUEST_TIME_STEP_NS + 100_000);
    expect(skipper.time).toBeGreaterThan(worker.time);
  });

  it('gives the VMs turns in order and ends when every pattern matched', async () => {
    const turns: string[] = [];
    const a = fakeVm('a', turns, 2, { event: 'matched' });
    const b = fakeVm('b', turns, 4, { event: 'matched' });
    const results = await runMachines([{ loop: a, hasPattern: true }, { loop: b, hasPattern: true }], { timeoutSeconds: 10 });
    expect(results).toEqual([{ event: 'matched' }, { event: 'matched' }]);
    expect(turns).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
  });

  it('keeps a VM that matched running while the others have not (they may need it), unless it fails', async () => {
    const turns: string[] = [];
    const a = fakeVm('a', turns, 1, { event: 'matched' });
    const b = fakeVm('b', turns, 3, { event: 'matched' });
    const results = await runMachines([{ loop: a, hasPattern: true }, { loop: b, hasPattern: true }], { timeoutSeconds: 10 });
    expect(results).toEqual([{ event: 'matched' }, { event: 'matched' }]);
    expect(turns).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
    const crash = { event: 'crash' as const, error: new Error('late') };
    const late = fakeVm('c', [], 1, { event: 'matched' });
    late.runBatch = function () {
      this.ran++;
      return this.ran === 1 ? { event: 'matched' } : crash;
    };
    const failed = await runMachines([{ loop: late, hasPattern: true }, { loop: fakeVm('d', []), hasPattern: true }], { timeoutSeconds: 10 });
    expect(failed).toEqual([crash, { event: 'stopped' }]);
  });

  it('stops the others as soon as one VM fails', async () => {
    const turns: string[] = [];
    const crash = { event: 'crash' as const, error: new Error('boom') };
    const results = await runMachines([
      { loop: fakeVm('a', turns), hasPattern: true },
      { loop: fakeVm('b', turns, 3, crash), hasPattern: true },
      { loop: fakeVm('c', turns), hasPattern: false },
    ], { timeoutSeconds: 10 });
    expect(results).toEqual([{ event: 'stopped' }, crash, { event: 'stopped' }]);
    expect(turns.filter((t) => t === 'a')).toHaveLength(3);
  });

  it('does not wait for VMs without a pattern when others have one; without any pattern it waits for every VM', async () => {
    const turns: string[] = [];
    const withPattern = await runMachines([
      { loop: fakeVm('a', turns, 1, { event: 'matched' }), hasPattern: true },
      { loop: fakeVm('b', turns), hasPattern: false },
    ], { timeoutSeconds: 10 });
    expect(withPattern).toEqual([{ event: 'matched' }, { event: 'stopped' }]);
    const none = await runMachines([
      { loop: fakeVm('a', turns, 1, { event: 'poweroff' }), hasPattern: false },
      { loop: fakeVm('b', turns, 5, { event: 'reboot' }), hasPattern: false },
    ], { timeoutSeconds: 10 });
    expect(none).toEqual([{ event: 'poweroff' }, { event: 'reboot' }]);
  });

  it('ends the VMs still running with timeout', async () => {
    const turns: string[] = [];
    const results = await runMachines([
      { loop: fakeVm('a', turns, 1, { event: 'matched' }), hasPattern: true },
      { loop: fakeVm('b', turns), hasPattern: true },
    ], { timeoutSeconds: 0.05 });
    expect(results).toEqual([{ event: 'matched' }, { event: 'timeout' }]);
  });

  it('counts a power event as a failure only for a VM that waits for a pattern', () => {
    expect(endFails({ event: 'poweroff' }, false)).toBe(false);
    expect(endFails({ event: 'poweroff' }, true)).toBe(true);
    expect(endFails({ event: 'timeout' }, false)).toBe(true);
    expect(endFails({ event: 'matched' }, true)).toBe(false);
  });
});
