import { describe, expect, it } from 'vitest';
import { attachKeyboardLock } from '../../web/keyboard-lock.ts';

/** A document that can enter and leave full-screen, and a target whose dataset shows the state. */
function fakes(keyboard?: object) {
  const doc = new EventTarget() as EventTarget & { fullscreenElement: object | null };
  doc.fullscreenElement = null;
  const target = { dataset: {} as Record<string, string> };
  const fullscreen = async (on: boolean) => {
    doc.fullscreenElement = on ? {} : null;
    doc.dispatchEvent(new Event('fullscreenchange'));
    await new Promise((r) => setTimeout(r, 0));
  };
  attachKeyboardLock(target as unknown as HTMLElement, doc as unknown as Document, { keyboard } as unknown as Navigator);
  return { target, fullscreen };
}

describe('Keyboard Lock in full-screen', () => {
  it('locks on entering full-screen and unlocks on leaving', async () => {
    const calls: string[] = [];
    const { target, fullscreen } = fakes({ lock: async () => { calls.push('lock'); }, unlock: () => calls.push('unlock') });
    expect(target.dataset.keyboardLock).toBe('unlocked');
    await fullscreen(true);
    expect(target.dataset.keyboardLock).toBe('locked');
    await fullscreen(false);
    expect(target.dataset.keyboardLock).toBe('unlocked');
    expect(calls).toEqual(['lock', 'unlock']);
  });

  it('says unsupported, and does nothing, where the browser has no Keyboard Lock', async () => {
    const { target, fullscreen } = fakes(undefined);
    expect(target.dataset.keyboardLock).toBe('unsupported');
    await fullscreen(true);
    expect(target.dataset.keyboardLock).toBe('unsupported');
  });

  it('shows a refused lock as failed, without an unhandled rejection', async () => {
    const { target, fullscreen } = fakes({ lock: () => Promise.reject(new Error('not allowed')), unlock: () => {} });
    await fullscreen(true);
    expect(target.dataset.keyboardLock).toBe('failed');
  });
});
