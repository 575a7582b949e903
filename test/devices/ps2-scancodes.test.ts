import { describe, expect, it } from 'vitest';
import { SET2_BY_CODE, set2ForCode, translateSet2Byte, translateSet2Sequence } from '../../src/devices/ps2-scancodes.ts';

describe('ps2-scancodes', () => {
  it('maps every key to a break sequence made of F0 plus its make code', () => {
    for (const [code, seq] of Object.entries(SET2_BY_CODE)) {
      if (seq.break.length === 0 || code === 'PrintScreen') continue;
      const expected = seq.make.length === 1 ? [0xf0, seq.make[0]] : [0xe0, 0xf0, seq.make[1]];
      expect(seq.break, code).toEqual(expected);
    }
  });

  it('gives distinct make codes to distinct keys', () => {
    const seen = new Map<string, string>();
    for (const [code, seq] of Object.entries(SET2_BY_CODE)) {
      const key = seq.make.join(',');
      expect(seen.get(key), `${code} duplicates ${seen.get(key)}`).toBeUndefined();
      seen.set(key, code);
    }
  });

  it('translates to the familiar set 1 codes', () => {
    const set1 = (code: string) => translateSet2Sequence(set2ForCode(code)!.make);
    expect(set1('Escape')).toEqual([0x01]);
    expect(set1('KeyQ')).toEqual([0x10]);
    expect(set1('Space')).toEqual([0x39]);
    expect(set1('F11')).toEqual([0x57]);
    expect(set1('F12')).toEqual([0x58]);
    expect(set1('IntlBackslash')).toEqual([0x56]);
    expect(set1('NumLock')).toEqual([0x45]);
    expect(set1('Numpad7')).toEqual([0x47]);
    expect(set1('NumpadEnter')).toEqual([0xe0, 0x1c]);
    expect(set1('MetaLeft')).toEqual([0xe0, 0x5b]);
    expect(set1('ContextMenu')).toEqual([0xe0, 0x5d]);
    expect(set1('Delete')).toEqual([0xe0, 0x53]);
    expect(set1('AudioVolumeMute')).toEqual([0xe0, 0x20]);
  });

  it('passes high bytes through except F7 and SysRq', () => {
    expect(translateSet2Byte(0xfa)).toBe(0xfa);
    expect(translateSet2Byte(0xe0)).toBe(0xe0);
    expect(translateSet2Byte(0x83)).toBe(0x41);
    expect(translateSet2Byte(0x84)).toBe(0x54);
    expect(translateSet2Byte(0x00)).toBe(0xff);
  });

  it('has no entry for names that are not keys', () => {
    expect(set2ForCode('constructor')).toBeUndefined();
    expect(set2ForCode('')).toBeUndefined();
  });
});
