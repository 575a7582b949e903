import { describe, expect, it } from 'vitest';
import { formatInputLog, parseInputLog, type InputEvent } from '../../src/harness/input-log.ts';

describe('input logs', () => {
  it('read back what they wrote, relative mouse moves and tablet wheels included', () => {
    const events: InputEvent[] = [
      { insns: 10n, ns: 100, action: { kind: 'serial', port: 0, bytes: [104, 105] } },
      { insns: 20n, ns: 200, action: { kind: 'key', code: 'KeyA', down: true } },
      { insns: 30n, ns: 300, action: { kind: 'tablet', x: 0.5, y: 0.25, buttons: 1, wheel: -1 } },
      { insns: 30n, ns: 300, action: { kind: 'tablet', x: 0.5, y: 0.25, buttons: 0 } },
      { insns: 40n, ns: 400, action: { kind: 'mouse', dx: -3, dy: 7, wheel: 1, buttons: 2 } },
      { insns: 50n, ns: 500, action: { kind: 'media', drive: 'hdc', path: null } },
    ];
    expect(parseInputLog(formatInputLog(events))).toEqual(events);
  });

  it('names the line of a malformed mouse or tablet event', () => {
    const head = '# webhvm input log v1\n';
    expect(() => parseInputLog(`${head}{"insns":"1","ns":1,"kind":"mouse","dx":1,"dy":2,"buttons":0}\n`, 'in.log')).toThrow(/^in\.log:2: a mouse event needs "dx", "dy", "wheel" and "buttons"/);
    expect(() => parseInputLog(`${head}{"insns":"1","ns":1,"kind":"tablet","x":0,"y":0,"buttons":0,"wheel":"up"}\n`, 'in.log')).toThrow(/^in\.log:2: a tablet event's "wheel" must be a number/);
  });
});
