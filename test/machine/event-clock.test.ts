import { describe, expect, it } from 'vitest';
import { EventClock } from '../../src/machine/event-clock.ts';

describe('EventClock', () => {
  it('runs due events in time order, ties in scheduling order', () => {
    const clock = new EventClock();
    const order: string[] = [];
    clock.schedule(300, () => order.push('c'));
    clock.schedule(100, () => order.push('a'));
    clock.schedule(100, () => order.push('a2'));
    const h = clock.schedule(200, () => order.push('cancelled'));
    clock.cancel(h);
    clock.advanceTo(250);
    expect(order).toEqual(['a', 'a2']);
    expect(clock.now()).toBe(250);
    expect(clock.nextEventTime()).toBe(300);
    clock.advanceBy(100);
    expect(order).toEqual(['a', 'a2', 'c']);
  });

  it('lets an event schedule another that is already due', () => {
    const clock = new EventClock();
    const times: number[] = [];
    clock.schedule(10, (t) => {
      times.push(t);
      clock.schedule(5, (t2) => times.push(t2));
    });
    clock.advanceTo(20);
    expect(times).toEqual([10, 10]);
  });
});
