/**
 * Physical keys on the focused canvas to the guest's PS/2 keyboard: `KeyboardEvent.code`
 * (the key's place, not its character) goes to the worker, which sends the set 2 scan codes;
 * auto-repeat arrives as repeated presses, as a real keyboard's typematic does. Keys still held
 * when the canvas loses focus are released, so the guest never sees a stuck Ctrl. The events go
 * into the shared input ring (page-rings.ts). In full-screen the Keyboard Lock API lets Escape,
 * Alt-Tab and the like reach the guest where the browser allows it (keyboard-lock.ts); the
 * buttons cover the combinations a browser always keeps.
 */
import type { InputSink } from '../src/worker/io-rings.ts';
import { set2ForCode } from '../src/devices/ps2-scancodes.ts';
import { attachKeyboardLock } from './keyboard-lock.ts';

export function attachKeyboard(target: HTMLElement, api: Pick<InputSink, 'keys'>): void {
  const held = new Set<string>();
  target.addEventListener('keydown', (e) => {
    if (!set2ForCode(e.code)) return;
    e.preventDefault();
    held.add(e.code);
    api.keys([{ code: e.code, down: true }]);
  });
  target.addEventListener('keyup', (e) => {
    if (!set2ForCode(e.code)) return;
    e.preventDefault();
    held.delete(e.code);
    api.keys([{ code: e.code, down: false }]);
  });
  target.addEventListener('blur', () => {
    if (held.size === 0) return;
    api.keys([...held].map((code) => ({ code, down: false })));
    held.clear();
  });
  attachKeyboardLock(target);
}
