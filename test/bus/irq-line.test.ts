import { describe, expect, it } from 'vitest';
import { IrqLine } from '../../src/bus/irq-line.ts';

describe('IrqLine', () => {
  it('notifies listeners on level changes only', () => {
    const line = new IrqLine('irq3');
    const levels: boolean[] = [];
    line.connect((l) => levels.push(l));
    line.raise();
    line.raise();
    line.lower();
    line.pulse();
    expect(levels).toEqual([true, false, true, false]);
  });

  it('is the wired-OR of its sources', () => {
    const line = new IrqLine('pirqa');
    const a = line.source();
    const b = line.source();
    a.set(true);
    b.set(true);
    a.set(false);
    expect(line.level).toBe(true);
    b.set(false);
    expect(line.level).toBe(false);
  });
});
