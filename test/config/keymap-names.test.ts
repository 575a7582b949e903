import { describe, expect, it } from 'vitest';
import { isKnownKeymap } from '../../src/config/keymap-names.ts';
import { cfg, parse, warningsOf } from './helpers.ts';

describe('keymap values', () => {
  it('knows the layouts WebHVM has tables for', () => {
    for (const name of ['en-us', 'en-gb', 'de', 'fr', 'es', 'it']) expect(isKnownKeymap(name), name).toBe(true);
    expect(isKnownKeymap('klingon')).toBe(false);
  });

  it('an unknown keymap is a warning at its line, and the value is kept', () => {
    const text = cfg("keymap = 'sv'");
    expect(warningsOf(text).join('\n')).toMatch(/:2:\d+: warning: keymap: no 'sv' layout: text typed for the guest uses en-us \(known: en-us, en-gb, de, fr, es, it\)/);
    expect(parse(text).config.display.keymap).toBe('sv');
  });

  it('a known keymap, or none, gives no keymap warning', () => {
    expect(warningsOf(cfg("keymap = 'fr'")).join('\n')).not.toMatch(/keymap/);
    expect(warningsOf(cfg()).join('\n')).not.toMatch(/keymap/);
  });
});
