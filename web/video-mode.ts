/** The current video mode in words for the status bar ("text 80x25", "VBE 1024x768x32"). */
import type { VgaDisplayState } from '../src/devices/vga-display-state.ts';
import { scanoutKind, textGeometry } from '../src/display/vga-geometry.ts';

export function videoModeName(state: VgaDisplayState, width: number, height: number): string {
  switch (scanoutKind(state)) {
    case 'vbe':
      return `VBE ${state.vbe.xres}x${state.vbe.yres}x${state.vbe.bpp}`;
    case 'text': {
      const g = textGeometry(state);
      return `text ${g.columns}x${g.rows}`;
    }
    case 'graphics':
      return `VGA ${width}x${height} ${state.graphics[5] & 0x40 ? '256' : '16'} colours`;
    default:
      return 'blank';
  }
}
