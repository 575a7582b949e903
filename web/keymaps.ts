/**
 * Keyboard layouts for typing text into the guest: which physical key (a `KeyboardEvent.code`,
 * i.e. a scan code) and which modifiers give each character on a guest set to that layout
 * (the domain configuration's `keymap`). Each table lists, per key, the character it types
 * unshifted, with Shift and with AltGr (AltRight); `dead:` marks a dead key, typed as the dead
 * key followed by Space (which gives the accent itself on Linux, X11 and Windows).
 * Tables follow the usual PC layouts (the X11 `us`, `gb`, `de`, `fr`, `es`, `it` symbols);
 * composed letters (dead key + letter) and Shift+AltGr levels are left out.
 */
import type { KeymapName } from '../src/config/keymap-names.ts';

type Levels = readonly [normal: string, shift?: string, altGr?: string];
type Layout = Readonly<Record<string, Levels>>;

/** The letter keys as on a US keyboard; layouts override the ones they move. */
const LETTERS: Layout = Object.fromEntries(
  [...'abcdefghijklmnopqrstuvwxyz'].map((c) => [`Key${c.toUpperCase()}`, [c, c.toUpperCase()] as Levels]),
);

const EN_US: Layout = {
  ...LETTERS,
  Backquote: ['`', '~'], Digit1: ['1', '!'], Digit2: ['2', '@'], Digit3: ['3', '#'], Digit4: ['4', '$'],
  Digit5: ['5', '%'], Digit6: ['6', '^'], Digit7: ['7', '&'], Digit8: ['8', '*'], Digit9: ['9', '('],
  Digit0: ['0', ')'], Minus: ['-', '_'], Equal: ['=', '+'], BracketLeft: ['[', '{'], BracketRight: [']', '}'],
  Backslash: ['\\', '|'], Semicolon: [';', ':'], Quote: ["'", '"'], Comma: [',', '<'], Period: ['.', '>'],
  Slash: ['/', '?'],
};

const EN_GB: Layout = {
  ...EN_US,
  Backquote: ['`', '¬', '¦'], Digit2: ['2', '"'], Digit3: ['3', '£'], Digit4: ['4', '$', '€'],
  Quote: ["'", '@'], Backslash: ['#', '~'], IntlBackslash: ['\\', '|'],
};

const DE: Layout = {
  ...LETTERS,
  Backquote: ['dead:^', '°'], Digit1: ['1', '!'], Digit2: ['2', '"', '²'], Digit3: ['3', '§', '³'],
  Digit4: ['4', '$'], Digit5: ['5', '%'], Digit6: ['6', '&'], Digit7: ['7', '/', '{'], Digit8: ['8', '(', '['],
  Digit9: ['9', ')', ']'], Digit0: ['0', '=', '}'], Minus: ['ß', '?', '\\'], Equal: ['dead:´', 'dead:`'],
  KeyQ: ['q', 'Q', '@'], KeyE: ['e', 'E', '€'], KeyY: ['z', 'Z'], KeyZ: ['y', 'Y'], KeyM: ['m', 'M', 'µ'],
  BracketLeft: ['ü', 'Ü'], BracketRight: ['+', '*', '~'], Semicolon: ['ö', 'Ö'], Quote: ['ä', 'Ä'],
  Backslash: ['#', "'"], IntlBackslash: ['<', '>', '|'], Comma: [',', ';'], Period: ['.', ':'], Slash: ['-', '_'],
};

const FR: Layout = {
  ...LETTERS,
  Backquote: ['²'], Digit1: ['&', '1'], Digit2: ['é', '2', 'dead:~'], Digit3: ['"', '3', '#'],
  Digit4: ["'", '4', '{'], Digit5: ['(', '5', '['], Digit6: ['-', '6', '|'], Digit7: ['è', '7', 'dead:`'],
  Digit8: ['_', '8', '\\'], Digit9: ['ç', '9', '^'], Digit0: ['à', '0', '@'], Minus: [')', '°', ']'],
  Equal: ['=', '+', '}'], KeyQ: ['a', 'A'], KeyW: ['z', 'Z'], KeyE: ['e', 'E', '€'],
  BracketLeft: ['dead:^', 'dead:¨'], BracketRight: ['$', '£', '¤'], KeyA: ['q', 'Q'], Semicolon: ['m', 'M'],
  Quote: ['ù', '%'], Backslash: ['*', 'µ'], IntlBackslash: ['<', '>'], KeyZ: ['w', 'W'], KeyM: [',', '?'],
  Comma: [';', '.'], Period: [':', '/'], Slash: ['!', '§'],
};

const ES: Layout = {
  ...LETTERS,
  Backquote: ['º', 'ª', '\\'], Digit1: ['1', '!', '|'], Digit2: ['2', '"', '@'], Digit3: ['3', '·', '#'],
  Digit4: ['4', '$', '~'], Digit5: ['5', '%'], Digit6: ['6', '&', '¬'], Digit7: ['7', '/'], Digit8: ['8', '('],
  Digit9: ['9', ')'], Digit0: ['0', '='], Minus: ["'", '?'], Equal: ['¡', '¿'], KeyE: ['e', 'E', '€'],
  BracketLeft: ['dead:`', 'dead:^', '['], BracketRight: ['+', '*', ']'], Semicolon: ['ñ', 'Ñ'],
  Quote: ['dead:´', 'dead:¨', '{'], Backslash: ['ç', 'Ç', '}'], IntlBackslash: ['<', '>'],
  Comma: [',', ';'], Period: ['.', ':'], Slash: ['-', '_'],
};

const IT: Layout = {
  ...LETTERS,
  Backquote: ['\\', '|'], Digit1: ['1', '!'], Digit2: ['2', '"'], Digit3: ['3', '£'], Digit4: ['4', '$'],
  Digit5: ['5', '%', '€'], Digit6: ['6', '&'], Digit7: ['7', '/'], Digit8: ['8', '('], Digit9: ['9', ')'],
  Digit0: ['0', '='], Minus: ["'", '?'], Equal: ['ì', '^'], KeyE: ['e', 'E', '€'],
  BracketLeft: ['è', 'é', '['], BracketRight: ['+', '*', ']'], Semicolon: ['ò', 'ç', '@'],
  Quote: ['à', '°', '#'], Backslash: ['ù', '§'], IntlBackslash: ['<', '>'], Comma: [',', ';'],
  Period: ['.', ':'], Slash: ['-', '_'],
};

export const LAYOUTS: Readonly<Record<KeymapName, Layout>> = { 'en-us': EN_US, 'en-gb': EN_GB, de: DE, fr: FR, es: ES, it: IT };

/** How to type one character: the key, its modifiers, and whether it is a dead key (then Space). */
export interface KeyStroke {
  code: string;
  shift: boolean;
  altGr: boolean;
  dead: boolean;
}

/** Keys that type the same on every layout. */
const COMMON: Record<string, string> = { ' ': 'Space', '\n': 'Enter', '\r': 'Enter', '\t': 'Tab', '\b': 'Backspace', '\x1b': 'Escape' };

const strokeTables = new Map<KeymapName, Map<string, KeyStroke>>();

/** Character -> key stroke for a layout: the plainest way wins (no modifier, Shift, AltGr; a direct key before a dead one). */
export function strokesFor(keymap: KeymapName): Map<string, KeyStroke> {
  let table = strokeTables.get(keymap);
  if (table) return table;
  table = new Map();
  for (const [ch, code] of Object.entries(COMMON)) table.set(ch, { code, shift: false, altGr: false, dead: false });
  const entries = Object.entries(LAYOUTS[keymap]);
  for (const dead of [false, true]) {
    for (let level = 0; level < 3; level++) {
      for (const [code, levels] of entries) {
        const value = levels[level];
        if (!value || value.startsWith('dead:') !== dead) continue;
        const ch = dead ? value.slice(5) : value;
        if (!table.has(ch)) table.set(ch, { code, shift: level === 1, altGr: level === 2, dead });
      }
    }
  }
  strokeTables.set(keymap, table);
  return table;
}
