/**
 * Text to key presses on a US keyboard, for `webhvm.sendKeys(text)` and pasting into the
 * canvas: each character becomes the `KeyboardEvent.code` presses a person would type
 * (Shift held for capitals and shifted symbols). Characters a US keyboard cannot type are
 * refused with an error naming them, rather than sent wrong.
 */
import type { KeyEvent } from '../src/worker/machine-api.ts';

const UNSHIFTED: Record<string, string> = {
  '`': 'Backquote', '-': 'Minus', '=': 'Equal', '[': 'BracketLeft', ']': 'BracketRight', '\\': 'Backslash',
  ';': 'Semicolon', "'": 'Quote', ',': 'Comma', '.': 'Period', '/': 'Slash', ' ': 'Space',
  '\n': 'Enter', '\r': 'Enter', '\t': 'Tab', '\b': 'Backspace', '\x1b': 'Escape',
};
const SHIFTED: Record<string, string> = {
  '~': 'Backquote', '_': 'Minus', '+': 'Equal', '{': 'BracketLeft', '}': 'BracketRight', '|': 'Backslash',
  ':': 'Semicolon', '"': 'Quote', '<': 'Comma', '>': 'Period', '?': 'Slash',
  '!': 'Digit1', '@': 'Digit2', '#': 'Digit3', '$': 'Digit4', '%': 'Digit5', '^': 'Digit6', '&': 'Digit7',
  '*': 'Digit8', '(': 'Digit9', ')': 'Digit0',
};

/** The key (and whether Shift is needed) that types `ch`, or undefined. */
export function keyForCharacter(ch: string): { code: string; shift: boolean } | undefined {
  if (/^[a-z]$/.test(ch)) return { code: `Key${ch.toUpperCase()}`, shift: false };
  if (/^[A-Z]$/.test(ch)) return { code: `Key${ch}`, shift: true };
  if (/^[0-9]$/.test(ch)) return { code: `Digit${ch}`, shift: false };
  if (ch in UNSHIFTED) return { code: UNSHIFTED[ch], shift: false };
  if (ch in SHIFTED) return { code: SHIFTED[ch], shift: true };
  return undefined;
}

export function textToKeyEvents(text: string): KeyEvent[] {
  const events: KeyEvent[] = [];
  const bad = new Set<string>();
  // "\r\n" is one Enter.
  for (const ch of text.replace(/\r\n/g, '\n')) {
    const key = keyForCharacter(ch);
    if (!key) {
      bad.add(ch);
      continue;
    }
    if (key.shift) events.push({ code: 'ShiftLeft', down: true });
    events.push({ code: key.code, down: true }, { code: key.code, down: false });
    if (key.shift) events.push({ code: 'ShiftLeft', down: false });
  }
  if (bad.size) {
    const list = [...bad].map((c) => JSON.stringify(c)).join(', ');
    throw new Error(`cannot type ${list} on a US keyboard`);
  }
  return events;
}

/** Key events for a combination: press in order, release in reverse (Ctrl-Alt-F1, Alt-Tab). */
export function comboKeyEvents(codes: string[]): KeyEvent[] {
  return [...codes.map((code) => ({ code, down: true })), ...[...codes].reverse().map((code) => ({ code, down: false }))];
}
