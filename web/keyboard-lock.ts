/**
 * Keyboard Lock in full-screen: while the page is full-screen it asks the browser
 * (navigator.keyboard.lock(), Chromium's Keyboard Lock API) to pass Escape, Alt-Tab, the
 * Windows key and the like to the page, so they reach the guest; leaving full-screen unlocks.
 * Browsers without the API keep those keys, and the page's buttons cover the combinations.
 * The state is shown on `target.dataset.keyboardLock`: unsupported, unlocked, locked, or
 * failed (the browser refused).
 */

interface KeyboardLockApi {
  lock(keys?: string[]): Promise<void>;
  unlock(): void;
}

export type KeyboardLockState = 'unsupported' | 'unlocked' | 'locked' | 'failed';

export function keyboardLockApi(nav: Navigator): KeyboardLockApi | undefined {
  const keyboard = (nav as Navigator & { keyboard?: Partial<KeyboardLockApi> }).keyboard;
  return keyboard && typeof keyboard.lock === 'function' && typeof keyboard.unlock === 'function' ? (keyboard as KeyboardLockApi) : undefined;
}

export function attachKeyboardLock(target: HTMLElement, doc: Document = document, nav: Navigator = navigator): void {
  const api = keyboardLockApi(nav);
  const show = (state: KeyboardLockState) => (target.dataset.keyboardLock = state);
  show(api ? 'unlocked' : 'unsupported');
  if (!api) return;
  doc.addEventListener('fullscreenchange', () => {
    if (doc.fullscreenElement) {
      api.lock().then(() => {
        // Full-screen may have ended while the lock was being granted.
        if (doc.fullscreenElement) show('locked');
        else api.unlock();
      }, () => show('failed'));
    } else {
      api.unlock();
      show('unlocked');
    }
  });
}
