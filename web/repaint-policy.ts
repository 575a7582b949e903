/**
 * What part of the canvas must be painted again. The worker reports what the VGA card changed
 * since the page's last look (src/devices/vga-change-log.ts: memory it wrote, registers,
 * cursor); dirty-regions.ts turns that, the state painted last and the state now into character
 * cells or line bands, including the cursor cell when the cursor blinks and blinking characters
 * when the blink phase turns. Linear-framebuffer modes, whose memory the CPU writes without the
 * card, are compared line by line with a copy of what was painted (lfb-shadow.ts). A new machine
 * repaints everything. Nothing else repaints: an unchanged or paused picture costs nothing.
 */
import type { VgaChanges } from '../src/devices/vga-change-log.ts';
import type { VgaDisplayState } from '../src/devices/vga-display-state.ts';
import { type DirtyRegions, EVERYTHING, dirtyRegions } from '../src/display/dirty-regions.ts';
import { LfbShadow } from '../src/display/lfb-shadow.ts';
import { scanoutKind } from '../src/display/vga-geometry.ts';

export class RepaintPolicy {
  /** The change epoch to ask the worker about next (0: everything). */
  since = 0;
  private machineId = -1;
  private painted: VgaDisplayState | undefined;
  private readonly lfb = new LfbShadow();

  /**
   * The regions to paint for `display` (machine `machineId`), given the card's `changes` since
   * `this.since` and its video memory. The caller must paint them: the result is then on screen.
   */
  plan(machineId: number, display: VgaDisplayState, changes: VgaChanges, vram: Uint8Array): DirtyRegions {
    let regions = machineId !== this.machineId ? EVERYTHING : dirtyRegions(this.painted, display, changes, vram);
    if (scanoutKind(display) === 'vbe' && display.vbe.bpp !== 4) {
      const compared = this.lfb.compare(display, vram, regions.full);
      if (!regions.full) regions = compared;
    } else {
      this.lfb.invalidate();
    }
    this.machineId = machineId;
    this.painted = display;
    this.since = changes.epoch;
    return regions;
  }
}
