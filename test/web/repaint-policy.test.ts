import { describe, expect, it } from 'vitest';
import { RepaintPolicy } from '../../web/repaint-policy.ts';
import { videoModeName } from '../../web/video-mode.ts';
import { MODE_03, MODE_12, MODE_13, newCard, setMode } from '../display/vga-modes.ts';

describe('when the canvas repaints', () => {
  it('paints the first frame, then only after the card changed or the blink phase turned', () => {
    const { io, mmio, vga } = newCard();
    setMode(io, MODE_03);
    const policy = new RepaintPolicy();
    const state = vga.displayState();
    expect(policy.shouldRepaint(1, state, 0)).toBe(true);
    expect(policy.shouldRepaint(1, state, 16)).toBe(false);
    // A character written into the text window.
    mmio.write(0xb8000, 1, 0x41);
    expect(policy.shouldRepaint(1, vga.displayState(), 32)).toBe(true);
    // 300 ms later the cursor blinked (16 frames at 70 Hz = 229 ms).
    expect(policy.shouldRepaint(1, { ...vga.displayState(), timeNs: 300e6 }, 48)).toBe(true);
    expect(policy.shouldRepaint(1, { ...vga.displayState(), timeNs: 301e6 }, 64)).toBe(false);
    // A new machine always repaints.
    expect(policy.shouldRepaint(2, { ...vga.displayState(), timeNs: 301e6 }, 80)).toBe(true);
  });

  it('graphics modes do not blink', () => {
    const { io, vga } = newCard();
    setMode(io, MODE_12);
    const policy = new RepaintPolicy();
    expect(policy.shouldRepaint(1, vga.displayState(), 0)).toBe(true);
    expect(policy.shouldRepaint(1, { ...vga.displayState(), timeNs: 5e9 }, 16)).toBe(false);
  });

  it('a linear framebuffer (invisible to the card) repaints on a schedule', () => {
    const { vga } = newCard();
    const policy = new RepaintPolicy(33);
    const lfb = { ...vga.displayState(), scanoutIsLinearFramebuffer: true };
    expect(policy.shouldRepaint(1, lfb, 0)).toBe(true);
    expect(policy.shouldRepaint(1, lfb, 20)).toBe(false);
    expect(policy.shouldRepaint(1, lfb, 40)).toBe(true);
  });

  it('repaints an unchanged picture at least every refresh interval (also while paused)', () => {
    const { io, vga } = newCard();
    setMode(io, MODE_12);
    const policy = new RepaintPolicy(33, 250);
    const state = vga.displayState();
    expect(policy.shouldRepaint(1, state, 0)).toBe(true);
    expect(policy.shouldRepaint(1, state, 200)).toBe(false);
    expect(policy.shouldRepaint(1, state, 260)).toBe(true);
    expect(policy.shouldRepaint(1, state, 300)).toBe(false);
  });
});

describe('video mode names', () => {
  it('names text, planar, 256-colour and VBE modes', () => {
    const { io, vga } = newCard();
    setMode(io, MODE_03);
    expect(videoModeName(vga.displayState(), 720, 400)).toBe('text 80x25');
    setMode(io, MODE_12);
    expect(videoModeName(vga.displayState(), 640, 480)).toBe('VGA 640x480 16 colours');
    setMode(io, MODE_13);
    expect(videoModeName(vga.displayState(), 320, 200)).toBe('VGA 320x200 256 colours');
    const vbe = vga.displayState();
    vbe.vbe = { ...vbe.vbe, enabled: true, xres: 1024, yres: 768, bpp: 32 };
    expect(videoModeName(vbe, 1024, 768)).toBe('VBE 1024x768x32');
  });
});
