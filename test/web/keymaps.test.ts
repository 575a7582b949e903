import { describe, expect, it } from 'vitest';
import { LAYOUTS, strokesFor } from '../../web/keymaps.ts';
import { KNOWN_KEYMAPS } from '../../src/config/keymap-names.ts';
import { set2ForCode } from '../../src/devices/ps2-scancodes.ts';

describe('keyboard layout tables', () => {
  it('has a table for exactly the keymaps the configuration knows', () => {
    expect(Object.keys(LAYOUTS).sort()).toEqual([...KNOWN_KEYMAPS].sort());
  });

  it('uses only keys the PS/2 keyboard has, and types every printable ASCII letter and digit on every layout', () => {
    for (const name of KNOWN_KEYMAPS) {
      for (const code of Object.keys(LAYOUTS[name])) expect(set2ForCode(code), `${name}: ${code}`).toBeDefined();
      const strokes = strokesFor(name);
      for (const ch of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-/\n') expect(strokes.has(ch), `${name}: ${JSON.stringify(ch)}`).toBe(true);
    }
  });

  it('en-us types all of printable ASCII', () => {
    const strokes = strokesFor('en-us');
    for (let c = 0x20; c < 0x7f; c++) expect(strokes.has(String.fromCharCode(c)), String.fromCharCode(c)).toBe(true);
  });

  it('no two characters of a layout share a key and modifier level', () => {
    for (const name of KNOWN_KEYMAPS) {
      const seen = new Map<string, string>();
      for (const [ch, s] of strokesFor(name)) {
        if (ch === '\r') continue; // Enter types both \r and \n
        const key = `${s.code}/${s.shift}/${s.altGr}`;
        expect(seen.get(key), `${name}: ${JSON.stringify(ch)} and ${JSON.stringify(seen.get(key))} on ${key}`).toBeUndefined();
        seen.set(key, ch);
      }
    }
  });
});
