import { describe, expect, it } from 'vitest';
import { RepaintPolicy } from '../../web/repaint-policy.ts';
import { videoModeName } from '../../web/video-mode.ts';
import { MODE_03, MODE_12, MODE_13, newCard, setMode } from '../display/vga-modes.ts';

const FRAME_NS = 1e9 / 70;

/** The page's loop without a canvas: ask the card with the policy's epoch, plan, count pixels. */
function looker(card: ReturnType<typeof newCard>, policy = new RepaintPolicy()) {
  return (machineId = 1, timeNs?: number) => {
    const display = { ...card.vga.displayState(), ...(timeNs === undefined ? {} : { timeNs }) };
    return policy.plan(machineId, display, card.vga.changesSince(policy.since), card.vram);
  };
}

describe('what the canvas repaints', () => {
  it('everything first, then only the cells that changed, and nothing for an unchanged (or paused) screen', () => {
    const card = newCard();
    setMode(card.io, MODE_03);
    const look = looker(card);
    expect(look().full).toBe(true);
    for (let i = 0; i < 10; i++) expect(look()).toEqual({ full: false, rects: [] });
    card.mmio.write(0xb8000 + 2 * 81, 1, 0x41); // row 1, column 1
    expect(look()).toEqual({ full: false, rects: [{ x: 9, y: 16, width: 9, height: 16 }] });
    expect(look()).toEqual({ full: false, rects: [] });
  });

  it('the cursor blink repaints the cursor cell every 8 frames of 70 Hz', () => {
    const card = newCard();
    setMode(card.io, MODE_03);
    const look = looker(card);
    look(1, 0);
    expect(look(1, 7 * FRAME_NS)).toEqual({ full: false, rects: [] });
    expect(look(1, 8 * FRAME_NS)).toEqual({ full: false, rects: [{ x: 0, y: 0, width: 9, height: 16 }] });
    expect(look(1, 9 * FRAME_NS)).toEqual({ full: false, rects: [] });
    expect(look(1, 16 * FRAME_NS)).toEqual({ full: false, rects: [{ x: 0, y: 0, width: 9, height: 16 }] });
  });

  it('a new machine repaints everything', () => {
    const card = newCard();
    setMode(card.io, MODE_12);
    const look = looker(card);
    look(1);
    expect(look(1)).toEqual({ full: false, rects: [] });
    expect(look(2).full).toBe(true);
  });

  it('a linear framebuffer written behind the card is found by comparison; leaving the mode repaints all', () => {
    const card = newCard(4 << 20);
    setMode(card.io, MODE_03);
    const vbe = (index: number, value: number) => {
      card.io.write(0x1ce, 2, index);
      card.io.write(0x1cf, 2, value);
    };
    vbe(1, 640);
    vbe(2, 480);
    vbe(3, 32);
    vbe(4, 0x41);
    const look = looker(card);
    expect(look().full).toBe(true);
    expect(look()).toEqual({ full: false, rects: [] });
    card.vram[(100 * 640 + 7) * 4] = 0xff; // as the CPU stores through the mapped BAR
    expect(look()).toEqual({ full: false, rects: [{ x: 7, y: 100, width: 1, height: 1 }] });
    expect(look()).toEqual({ full: false, rects: [] });
    vbe(4, 0);
    expect(look().full).toBe(true);
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
