/**
 * Physical keys on the focused canvas to the guest's PS/2 keyboard: `KeyboardEvent.code`
 * (the key's place, not its character) goes to the worker, which sends the set 2 scan codes;
 * auto-repeat arrives as repeated presses, as a real keyboard's typematic does. Keys still held
 * when the canvas loses focus are released, so the guest never sees a stuck Ctrl. In
 * full-screen the Keyboard Lock API lets Escape, Alt-Tab and the like reach the guest where the
 * browser allows it; the buttons cover the combinations a browser always keeps.
 */
import type { Remote } from 'comlink';
import type { MachineApi } from '../src/worker/machine-api.ts';
import { set2ForCode } from '../src/devices/ps2-scancodes.ts';

interface KeyboardLockApi {
  lock(keys?: string[]): Promise<void>;
  unlock(): void;
}

export function attachKeyboard(target: HTMLElement, api: Remote<MachineApi>): void {
  const held = new Set<string>();
  target.addEventListener('keydown', (e) => {
    if (!set2ForCode(e.code)) return;
    e.preventDefault();
    held.add(e.code);
    void api.keys([{ code: e.code, down: true }]);
  });
  target.addEventListener('keyup', (e) => {
    if (!set2ForCode(e.code)) return;
    e.preventDefault();
    held.delete(e.code);
    void api.keys([{ code: e.code, down: false }]);
  });
  target.addEventListener('blur', () => {
    if (held.size === 0) return;
    void api.keys([...held].map((code) => ({ code, down: false })));
    held.clear();
  });
  document.addEventListener('fullscreenchange', () => {
    const lock = (navigator as Navigator & { keyboard?: KeyboardLockApi }).keyboard;
    if (!lock) return;
    if (document.fullscreenElement) lock.lock().catch(() => {});
    else lock.unlock();
  });
}
