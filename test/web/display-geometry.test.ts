import { describe, expect, it } from 'vitest';
import { containedRect, pointerFraction } from '../../web/display-geometry.ts';

describe('picture placement and tablet coordinates', () => {
  it('fits the picture inside the box, keeping its aspect, centred', () => {
    expect(containedRect(1000, 600, 640, 480)).toEqual({ x: 100, y: 0, width: 800, height: 600 });
    expect(containedRect(800, 800, 720, 400)).toEqual({ x: 0, y: 177.77777777777777, width: 800, height: 444.44444444444446 });
    expect(containedRect(0, 600, 640, 480)).toEqual({ x: 0, y: 0, width: 0, height: 0 });
  });

  it('gives the pointer as fractions of the picture, clamped to its edges', () => {
    const picture = { x: 100, y: 0, width: 800, height: 600 };
    expect(pointerFraction(500, 300, picture)).toEqual({ x: 0.5, y: 0.5 });
    expect(pointerFraction(50, -10, picture)).toEqual({ x: 0, y: 0 });
    expect(pointerFraction(950, 700, picture)).toEqual({ x: 1, y: 1 });
    // No picture yet: the top-left corner rather than NaN.
    expect(pointerFraction(1, 1, { x: 0, y: 0, width: 0, height: 0 })).toEqual({ x: 0, y: 0 });
  });
});
