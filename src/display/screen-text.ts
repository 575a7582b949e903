/**
 * The characters of a VGA text screen as Unicode lines, for the command-line runner's pattern
 * matching and for tests: what a person reading the screen would see, without colours.
 * Trailing spaces are removed from each line. Pure code: no DOM, no Node APIs.
 */
import type { VgaDisplayState } from '../devices/vga-display-state.ts';
import { cp437ToUnicode } from './cp437.ts';
import { planeAddress, scanoutKind, textGeometry } from './vga-geometry.ts';

/** The text screen as lines of text, or null when the card shows graphics (or nothing). */
export function screenText(state: VgaDisplayState, vram: Uint8Array): string[] | null {
  if (scanoutKind(state) !== 'text') return null;
  const g = textGeometry(state);
  const planes = vram.length >> 2;
  const lines: string[] = [];
  for (let row = 0; row < g.rows; row++) {
    let line = '';
    for (let col = 0; col < g.columns; col++) {
      const address = planeAddress(state.crtc, (g.start + row * g.stride + col) & 0xffff, 0);
      line += cp437ToUnicode(vram[(address % planes) << 2]);
    }
    lines.push(line.trimEnd());
  }
  return lines;
}
