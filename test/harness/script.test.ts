import { describe, expect, it } from 'vitest';
import { parseScript, keysForText, ScriptError } from '../../src/harness/script.ts';
import { junitReport } from '../../src/harness/junit.ts';
import { parseInputLog, formatInputLog } from '../../src/harness/input-log.ts';

describe('test scripts', () => {
  it('reads the line format', () => {
    const s = parseScript([
      '# boot and check', 'config guest.cfg', 'timeout 90', 'wait serial login: ?$', 'wait screen Debian',
      'send "root\\n"', 'type "ls -l\\n"', 'key Enter F12', 'tablet 0.5 0.25 1', 'wait time 500ms', 'wait insns 1000',
      'screenshot out.png', 'fingerprint insns=5 ram=0123456789abcdef', 'eject hdc', 'insert hdc other.iso', 'snapshot s.snap',
    ].join('\n'), 't.script');
    expect(s.config).toBe('guest.cfg');
    expect(s.timeoutSeconds).toBe(90);
    expect(s.steps.map((x) => x.step.kind)).toEqual([
      'wait-serial', 'wait-screen', 'send', 'type', 'key', 'tablet', 'wait-time', 'wait-insns', 'screenshot', 'fingerprint', 'eject', 'insert', 'snapshot',
    ]);
    expect(s.steps[0].step).toEqual({ kind: 'wait-serial', regex: /login: ?$/ });
    expect(s.steps[2].step).toEqual({ kind: 'send', text: 'root\n' });
    expect(s.steps[6].step).toEqual({ kind: 'wait-time', ns: 500e6 });
    expect(s.steps[9].step).toEqual({ kind: 'fingerprint', expect: { insns: 5n, ram: '0123456789abcdef' } });
    expect(s.steps[11].step).toEqual({ kind: 'insert', drive: 'hdc', file: 'other.iso' });
    expect(s.steps[0].line).toBe(4);
  });
  it('reads the JSON format with the same steps', () => {
    const s = parseScript(JSON.stringify({ config: 'g.cfg', timeout: 5, steps: ['wait serial READY', 'send "x\\n"'] }));
    expect(s.config).toBe('g.cfg');
    expect(s.timeoutSeconds).toBe(5);
    expect(s.steps.map((x) => x.step.kind)).toEqual(['wait-serial', 'send']);
  });
  it('names the file and line of a bad step', () => {
    expect(() => parseScript('wait serial ok\nsend unquoted', 'x.script')).toThrow('x.script:2: send: expected a string in double quotes');
    expect(() => parseScript('jump', 'x.script')).toThrow(ScriptError);
    expect(() => parseScript('wait serial (', 'x.script')).toThrow(/x.script:1: wait/);
    expect(() => parseScript('eject sda', 'x.script')).toThrow(/hda-hdd/);
    expect(() => parseScript('{"steps": 3}', 'x.json')).toThrow(/list of step strings/);
  });
  it('maps text to US keyboard keys', () => {
    expect(keysForText('aZ1!\n')).toEqual([
      { code: 'KeyA', shift: false }, { code: 'KeyZ', shift: true }, { code: 'Digit1', shift: false },
      { code: 'Digit1', shift: true }, { code: 'Enter', shift: false },
    ]);
    expect(() => keysForText('é')).toThrow(/no key/);
  });
});

describe('JUnit report', () => {
  it('counts passed, failed and skipped steps and escapes text', () => {
    const s = parseScript('wait serial a<b\nsend "x"\nsend "y"');
    const xml = junitReport('t&t', [
      { step: s.steps[0], status: 'passed', ms: 1500 },
      { step: s.steps[1], status: 'failed', ms: 10, message: 'bad "thing"' },
      { step: s.steps[2], status: 'skipped', ms: 0 },
    ], 'log\u0001');
    expect(xml).toContain('<testsuite name="t&amp;t" tests="3" failures="1" skipped="1" time="1.510">');
    expect(xml).toContain('name="1: wait serial a&lt;b" time="1.500"/>');
    expect(xml).toContain('<failure message="bad &quot;thing&quot;">');
    expect(xml).toContain('<skipped/>');
    expect(xml).toContain('<system-out>log\\x01</system-out>');
  });
});

describe('input logs', () => {
  it('round-trip, and refuse foreign, malformed and out-of-order logs', () => {
    const events = [
      { insns: 10n, ns: 100, action: { kind: 'serial' as const, port: 0 as const, bytes: [104, 105] } },
      { insns: 10n, ns: 200, action: { kind: 'key' as const, code: 'Enter', down: true } },
      { insns: 99n, ns: 300, action: { kind: 'media' as const, drive: 'hdc', path: null } },
    ];
    const text = formatInputLog(events);
    expect(parseInputLog(text)).toEqual(events);
    expect(() => parseInputLog('hello')).toThrow(/not a WebHVM input log/);
    const lines = text.trim().split('\n');
    expect(() => parseInputLog([lines[0], lines[2], lines[1]].join('\n'), 'in.log')).toThrow('in.log:3: events must be in the order');
    expect(() => parseInputLog(`${lines[0]}\n{"insns":"1","ns":0,"kind":"serial","port":5,"bytes":[]}`, 'in.log')).toThrow(/in.log:2: a serial event/);
  });
});
