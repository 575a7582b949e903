import { describe, expect, it } from 'vitest';
import type { VgaDisplayState } from '../../src/devices/vga-display-state.ts';
import { type DirtyRegions, dirtyRegions, regionPixels } from '../../src/display/dirty-regions.ts';
import { LfbShadow } from '../../src/display/lfb-shadow.ts';
import { renderFrame } from '../../src/display/vga-render.ts';
import { MODE_03, MODE_12, MODE_13, loadFont, newCard, setDac, setMode, type ModeTable } from './vga-modes.ts';

const FRAME_NS = 1e9 / 70;
const GLYPH = [0, 0, 0x18, 0x3c, 0x66, 0x66, 0x7e, 0x66, 0x66, 0x66, 0, 0, 0, 0, 0, 0];

/** A deterministic pseudo-random sequence (tests must not depend on Math.random). */
function numbers(seed: number) {
  let x = seed >>> 0;
  return (n: number) => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x % n;
  };
}

/**
 * A viewer as the page is one: it keeps the painted state and picture, asks the card what
 * changed, renders only the regions, and can be checked against a full render.
 */
function viewer(card: ReturnType<typeof newCard>) {
  let state = card.vga.displayState();
  let since = card.vga.changesSince(0).epoch;
  const shadow = new LfbShadow();
  let picture = renderFrame(state, card.vram).rgba.slice();
  shadow.compare(state, card.vram, true);
  return {
    /** Repaint what the card reports at guest time `timeNs` (default: the clock's). */
    update(timeNs?: number): DirtyRegions {
      const next: VgaDisplayState = { ...card.vga.displayState(), ...(timeNs === undefined ? {} : { timeNs }) };
      const changes = card.vga.changesSince(since);
      since = changes.epoch;
      let regions = dirtyRegions(state, next, changes, card.vram);
      if (next.vbe.enabled && next.vbe.bpp !== 4) {
        const lfb = shadow.compare(next, card.vram, regions.full);
        if (!regions.full) regions = lfb;
      }
      if (regions.full) picture = renderFrame(next, card.vram).rgba.slice();
      else for (const r of regions.rects) renderFrame(next, card.vram, picture, r);
      state = next;
      return regions;
    },
    /** The picture equals a fresh full render of the current state. */
    matches(): boolean {
      const full = renderFrame(state, card.vram).rgba;
      return full.length === picture.length && full.every((b, i) => b === picture[i]);
    },
  };
}

function textCard() {
  const card = newCard();
  setMode(card.io, MODE_03);
  setDac(card.io, 0x3f, 63, 63, 63);
  setDac(card.io, 0x01, 0, 0, 42);
  loadFont(card.io, card.mmio, new Map([[0x41, GLYPH]]));
  for (let i = 0; i < 2000; i++) card.mmio.write(0xb8000 + 2 * i, 2, 0x1f20);
  return card;
}

describe('dirty regions: text modes', () => {
  it('an unchanged screen (time moving inside one blink phase) needs nothing', () => {
    const card = textCard();
    const view = viewer(card);
    expect(view.update(1 * FRAME_NS)).toEqual({ full: false, rects: [] });
    expect(view.update(5 * FRAME_NS)).toEqual({ full: false, rects: [] });
  });

  it('a character write repaints its cell only', () => {
    const card = textCard();
    const view = viewer(card);
    card.mmio.write(0xb8000 + 2 * (3 * 80 + 10), 2, 0x1f41);
    const regions = view.update(1 * FRAME_NS);
    expect(regions).toEqual({ full: false, rects: [{ x: 90, y: 48, width: 9, height: 16 }] });
    expect(view.matches()).toBe(true);
  });

  it('the cursor blink repaints the cursor cell only; moving the cursor repaints the old and new cells', () => {
    const card = textCard();
    card.io.write(0x3d4, 2, 0x000e);
    card.io.write(0x3d4, 2, 0x550f); // cursor at cell 85 = row 1, column 5
    const view = viewer(card);
    view.update(0);
    expect(view.update(8 * FRAME_NS)).toEqual({ full: false, rects: [{ x: 45, y: 16, width: 9, height: 16 }] });
    expect(view.matches()).toBe(true);
    expect(view.update(16 * FRAME_NS)).toEqual({ full: false, rects: [{ x: 45, y: 16, width: 9, height: 16 }] });
    card.io.write(0x3d4, 2, 0x010e); // cell 0x155 = 341: row 4, column 21
    const moved = view.update(17 * FRAME_NS);
    expect(moved).toEqual({ full: false, rects: [{ x: 45, y: 16, width: 9, height: 16 }, { x: 189, y: 64, width: 9, height: 16 }] });
    expect(view.matches()).toBe(true);
  });

  it('blinking characters repaint when the character blink turns', () => {
    const card = textCard();
    card.mmio.write(0xb8000 + 2 * 170, 2, 0x9f41); // row 2, column 10, blink attribute
    const view = viewer(card);
    view.update(0);
    const regions = view.update(16 * FRAME_NS);
    if (regions.full) throw new Error('expected rectangles');
    // The blinking cell only: the cursor is on again at frame 16, as it was at frame 0.
    expect(regions.rects).toEqual([{ x: 90, y: 32, width: 9, height: 16 }]);
    expect(view.matches()).toBe(true);
  });

  it('a font change or a scroll by start address repaints everything', () => {
    const card = textCard();
    const view = viewer(card);
    loadFont(card.io, card.mmio, new Map([[0x20, GLYPH]]));
    expect(view.update().full).toBe(true);
    expect(view.matches()).toBe(true);
    card.io.write(0x3d4, 2, 0x500d);
    expect(view.update().full).toBe(true);
    expect(view.matches()).toBe(true);
  });

  it('random text writes: the partly repainted picture always equals a full render', () => {
    const card = textCard();
    const view = viewer(card);
    const next = numbers(7);
    for (let round = 0; round < 40; round++) {
      for (let i = next(6); i > 0; i--) card.mmio.write(0xb8000 + next(4000), 1, next(256));
      const regions = view.update(round * 3 * FRAME_NS);
      expect(view.matches(), `round ${round}`).toBe(true);
      expect(regions.full).toBe(false);
    }
  });
});

describe('dirty regions: VGA graphics', () => {
  const graphicsCases: [string, ModeTable, (c: ReturnType<typeof newCard>) => void][] = [
    ['mode 12h', MODE_12, () => {}],
    ['mode 13h', MODE_13, () => {}],
    ['mode 13h unchained (mode X)', MODE_13, ({ io }) => {
      io.write(0x3c4, 2, 0x0604);
      io.write(0x3d4, 2, 0x0014);
      io.write(0x3d4, 2, 0xe317);
    }],
    ['mode 12h split screen at line 200', MODE_12, ({ io }) => {
      io.write(0x3d4, 2, 0xc818); // line compare 200 (bits 8/9 are clear in MODE_12's CR07/CR09)
      io.write(0x3d4, 2, 0x040c); // start address 0x400
    }],
  ];
  for (const [name, mode, extra] of graphicsCases) {
    it(`${name}: random writes repaint line bands that bring the picture up to date`, () => {
      const card = newCard();
      setMode(card.io, mode);
      extra(card);
      for (let i = 0; i < 64; i++) setDac(card.io, i, i, 63 - i, (i * 7) & 63);
      const view = viewer(card);
      expect(view.update()).toEqual({ full: false, rects: [] });
      const next = numbers(11);
      let painted = 0;
      for (let round = 0; round < 30; round++) {
        card.io.write(0x3c4, 2, ((1 + next(15)) << 8) | 0x02); // map mask
        for (let i = next(5); i > 0; i--) card.mmio.write(0xa0000 + next(0x10000), 1, next(256));
        const regions = view.update();
        expect(view.matches(), `round ${round}`).toBe(true);
        expect(regions.full).toBe(false);
        painted += regionPixels(regions, { width: 1, height: 1 });
      }
      expect(painted).toBeGreaterThan(0);
    });
  }

  it('a palette change repaints everything; a write outside the shown memory repaints nothing', () => {
    const card = newCard();
    setMode(card.io, MODE_13);
    const view = viewer(card);
    setDac(card.io, 3, 1, 2, 3);
    expect(view.update().full).toBe(true);
    card.mmio.write(0xa0000 + 0xff00, 1, 7); // past 320x200 = 64000 bytes
    expect(view.update()).toEqual({ full: false, rects: [] });
    card.mmio.write(0xa0000 + 320 * 10 + 5, 1, 7);
    expect(view.update()).toEqual({ full: false, rects: [{ x: 0, y: 10, width: 320, height: 1 }] });
    expect(view.matches()).toBe(true);
  });
});

describe('dirty regions: VBE', () => {
  function vbeCard(bpp: number) {
    const card = newCard(4 << 20);
    setMode(card.io, MODE_03);
    const vbe = (index: number, value: number) => {
      card.io.write(0x1ce, 2, index);
      card.io.write(0x1cf, 2, value);
    };
    vbe(1, 320);
    vbe(2, 200);
    vbe(3, bpp);
    vbe(4, 0x41);
    return { ...card, vbe };
  }

  it('32 bpp: writes straight into the framebuffer (as the CPU does) are found by comparison', () => {
    const card = vbeCard(32);
    const view = viewer(card);
    expect(view.update()).toEqual({ full: false, rects: [] });
    card.vram.set([1, 2, 3, 0], (50 * 320 + 100) * 4);
    card.vram.set([9, 9, 9, 0], (51 * 320 + 90) * 4);
    expect(view.update()).toEqual({ full: false, rects: [{ x: 90, y: 50, width: 11, height: 2 }] });
    expect(view.matches()).toBe(true);
    expect(view.update()).toEqual({ full: false, rects: [] });
  });

  it('16 bpp with a panned virtual screen: random framebuffer writes keep the picture exact', () => {
    const card = vbeCard(16);
    card.vbe(6, 400); // virtual width 400
    card.vbe(8, 16); // x offset
    card.vbe(9, 3); // y offset
    const view = viewer(card);
    const next = numbers(5);
    for (let round = 0; round < 20; round++) {
      for (let i = next(4); i > 0; i--) card.vram[next(400 * 2 * 210)] = next(256);
      const regions = view.update();
      expect(regions.full).toBe(false);
      expect(view.matches(), `round ${round}`).toBe(true);
    }
    card.vbe(9, 4); // panning is a register change
    expect(view.update().full).toBe(true);
  });

  it('4 bpp (planar) writes through the bank window repaint their lines', () => {
    const card = vbeCard(4);
    card.io.write(0x3c4, 2, 0x0f02);
    card.io.write(0x3c4, 2, 0x0604);
    card.io.write(0x3ce, 2, 0x0005);
    card.io.write(0x3ce, 2, 0xff08);
    const view = viewer(card);
    view.update();
    card.mmio.write(0xa0000 + 40 * 7 + 3, 1, 0xff); // line 7 of 320 pixels = 40 bytes per line
    expect(view.update()).toEqual({ full: false, rects: [{ x: 0, y: 7, width: 320, height: 1 }] });
    expect(view.matches()).toBe(true);
  });
});
