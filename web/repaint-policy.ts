/**
 * When the canvas must be painted again: the card reported a change (its generation counter),
 * a new machine appeared, the text-mode blink phase turned (cursor and blinking characters), or
 * the guest draws through the linear framebuffer, which the card cannot see (then at most
 * `lfbIntervalMs` apart). Everything else reuses the last picture, but never for longer than
 * `refreshMs`: video memory written where the card does not count it (guest RAM mappings of the
 * legacy window) still shows within that time, also while the machine is paused.
 */
import type { VgaDisplayState } from '../src/devices/vga-display-state.ts';
import { scanoutKind } from '../src/display/vga-geometry.ts';

/** The VGA cursor blinks every 16 frames of the 70 Hz text modes; characters every 32. */
const BLINK_PERIOD_NS = (1e9 / 70) * 16;

export class RepaintPolicy {
  private machineId = -1;
  private generation = -1;
  private blinkPhase = -1;
  private lastLfbPaintMs = -Infinity;
  private lastPaintMs = -Infinity;

  constructor(
    private readonly lfbIntervalMs = 33,
    private readonly refreshMs = 250,
  ) {}

  /** True when the frame described by `display` (at host time `nowMs`) must be painted. */
  shouldRepaint(machineId: number, display: VgaDisplayState, nowMs: number): boolean {
    const kind = scanoutKind(display);
    const blinkPhase = kind === 'text' ? Math.floor(display.timeNs / BLINK_PERIOD_NS) : 0;
    let repaint = machineId !== this.machineId || display.generation !== this.generation || blinkPhase !== this.blinkPhase;
    if (!repaint && display.scanoutIsLinearFramebuffer && nowMs - this.lastLfbPaintMs >= this.lfbIntervalMs) repaint = true;
    if (!repaint && nowMs - this.lastPaintMs >= this.refreshMs) repaint = true;
    if (repaint) {
      this.lastPaintMs = nowMs;
      this.machineId = machineId;
      this.generation = display.generation;
      this.blinkPhase = blinkPhase;
      if (display.scanoutIsLinearFramebuffer) this.lastLfbPaintMs = nowMs;
    }
    return repaint;
  }
}
