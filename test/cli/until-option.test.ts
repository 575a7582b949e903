import { describe, expect, it } from 'vitest';
import { parseUntilOptions } from '../../src/cli/until-option.ts';

describe('parseUntilOptions', () => {
  it('gives a plain pattern to every VM and NAME=REGEX to the VM of that name only', () => {
    const until = parseUntilOptions(['a=ready', 'login:'], ['a', 'b', 'c']);
    expect(until.get('a')!.source).toBe('ready');
    expect(until.get('b')!.source).toBe('login:');
    expect(until.get('c')!.source).toBe('login:');
  });

  it('reads NAME= only for names of VMs in the run, so patterns with = keep working', () => {
    const until = parseUntilOptions(['answer=42'], ['hd']);
    expect(until.get('hd')!.test('echo answer=42')).toBe(true);
    expect(parseUntilOptions(['b=x'], ['a', 'b']).has('a')).toBe(false);
  });

  it('gives no pattern when none is asked for', () => {
    expect(parseUntilOptions([], ['a']).size).toBe(0);
  });

  it('refuses two patterns for one VM, two common patterns, empty and broken patterns', () => {
    expect(() => parseUntilOptions(['a=x', 'a=y'], ['a'])).toThrow(/VM 'a' has two patterns/);
    expect(() => parseUntilOptions(['x', 'y'], ['a', 'b'])).toThrow(/two patterns for every VM/);
    expect(() => parseUntilOptions(['a='], ['a'])).toThrow(/empty pattern/);
    expect(() => parseUntilOptions(['a=(('], ['a'])).toThrow(/--until 'a=\(\('/);
  });
});
