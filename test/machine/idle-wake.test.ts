import { describe, expect, it } from 'vitest';
import { IdleWake } from '../../src/machine/idle-wake.ts';

describe('IdleWake', () => {
  it('ends a sleep early when woken, and otherwise after its time', async () => {
    const wake = new IdleWake();
    let t = performance.now();
    const early = wake.sleep(5_000);
    setTimeout(() => wake.wake(), 5);
    await early;
    expect(performance.now() - t).toBeLessThan(1_000);

    t = performance.now();
    await wake.sleep(30);
    expect(performance.now() - t).toBeGreaterThanOrEqual(25);
  });

  it('a wake with nobody asleep is not kept for the next sleep', async () => {
    const wake = new IdleWake();
    wake.wake();
    const t = performance.now();
    await wake.sleep(30);
    expect(performance.now() - t).toBeGreaterThanOrEqual(25);
  });
});
