/**
 * Text to key presses, for `webhvm.sendKeys(text)`: each character becomes the
 * `KeyboardEvent.code` presses a person would type on the guest's keyboard layout (the
 * configuration's `keymap`, web/keymaps.ts): Shift or AltGr held where the layout needs them,
 * a dead key followed by Space for a lone accent. Characters the layout cannot type are
 * refused with an error naming them, rather than sent wrong.
 */
import type { KeyEvent } from '../src/worker/machine-api.ts';
import { isKnownKeymap } from '../src/config/keymap-names.ts';
import { strokesFor, type KeyStroke } from './keymaps.ts';

/** The key stroke that types `ch` on `keymap` (default the US layout), or undefined. */
export function keyForCharacter(ch: string, keymap = 'en-us'): KeyStroke | undefined {
  if (!isKnownKeymap(keymap)) throw new Error(`no keyboard layout for keymap '${keymap}'`);
  return strokesFor(keymap).get(ch);
}

/** Key events typing `text` on `keymap`. An unknown keymap types as en-us (the config warned about it). */
export function textToKeyEvents(text: string, keymap = 'en-us'): KeyEvent[] {
  const layout = isKnownKeymap(keymap) ? keymap : 'en-us';
  const strokes = strokesFor(layout);
  const events: KeyEvent[] = [];
  const bad = new Set<string>();
  // "\r\n" is one Enter.
  for (const ch of text.replace(/\r\n/g, '\n')) {
    const key = strokes.get(ch);
    if (!key) {
      bad.add(ch);
      continue;
    }
    const modifiers = [...(key.shift ? ['ShiftLeft'] : []), ...(key.altGr ? ['AltRight'] : [])];
    events.push(...comboKeyEvents([...modifiers, key.code]));
    if (key.dead) events.push(...comboKeyEvents(['Space']));
  }
  if (bad.size) {
    const list = [...bad].map((c) => JSON.stringify(c)).join(', ');
    throw new Error(`cannot type ${list} with the ${layout} keyboard layout (keymap='${layout}')`);
  }
  return events;
}

/** Key events for a combination: press in order, release in reverse (Ctrl-Alt-F1, Alt-Tab). */
export function comboKeyEvents(codes: string[]): KeyEvent[] {
  return [...codes.map((code) => ({ code, down: true })), ...[...codes].reverse().map((code) => ({ code, down: false }))];
}
