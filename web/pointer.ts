/**
 * The host pointer to the guest. With a USB tablet the position over the picture is sent as
 * absolute fractions, so the guest cursor sits under the user's pointer with no capture. With a
 * relative mouse (PS/2 or USB) a click captures the pointer (Pointer Lock) and movements are
 * sent as deltas; Escape releases it. Wheel and three buttons either way. Events go into the
 * shared input ring (page-rings.ts).
 */
import type { InputSink } from '../src/worker/io-rings.ts';
import type { MachineStatus } from '../src/worker/machine-api.ts';
import { pointerFraction } from './display-geometry.ts';
import type { Display } from './display.ts';

export function attachPointer(display: Display, api: Pick<InputSink, 'pointerAbsolute' | 'pointerRelative'>, pointerKind: () => MachineStatus['pointer']): void {
  const canvas = display.canvas;
  let pending: { x: number; y: number; buttons: number; wheel: number } | undefined;
  let scheduled = false;
  // Moves are coalesced to one message per animation frame; button changes go at once.
  const sendAbsolute = (x: number, y: number, buttons: number, wheel: number, now: boolean) => {
    pending = { x, y, buttons, wheel: (pending?.wheel ?? 0) + wheel };
    const flush = () => {
      scheduled = false;
      if (!pending) return;
      const p = pending;
      pending = undefined;
      api.pointerAbsolute(p.x, p.y, p.buttons, p.wheel);
    };
    if (now) flush();
    else if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(flush);
    }
  };
  const absolute = (e: MouseEvent, wheel = 0, now = false) => {
    const box = canvas.getBoundingClientRect();
    const f = pointerFraction(e.clientX - box.left, e.clientY - box.top, display.pictureRect());
    sendAbsolute(f.x, f.y, e.buttons & 7, wheel, now);
  };
  const locked = () => document.pointerLockElement === canvas;

  canvas.addEventListener('pointermove', (e) => {
    if (pointerKind() === 'tablet') absolute(e);
    else if (locked()) api.pointerRelative(e.movementX, e.movementY, 0, e.buttons & 7);
  });
  const button = (e: PointerEvent) => {
    canvas.focus();
    if (pointerKind() === 'tablet') {
      e.preventDefault();
      absolute(e, 0, true);
    } else if (locked()) {
      e.preventDefault();
      api.pointerRelative(0, 0, 0, e.buttons & 7);
    } else if (e.type === 'pointerdown') {
      // Chromium returns a promise that rejects when the lock is refused (e.g. right after an
      // Escape); the next click tries again.
      const request = canvas.requestPointerLock?.() as Promise<void> | undefined;
      request?.catch?.(() => {});
    }
  };
  canvas.addEventListener('pointerdown', button);
  canvas.addEventListener('pointerup', button);
  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const steps = Math.sign(e.deltaY);
    if (steps === 0) return;
    if (pointerKind() === 'tablet') absolute(e, -steps, true);
    else if (locked()) api.pointerRelative(0, 0, steps, e.buttons & 7);
  }, { passive: false });
}
