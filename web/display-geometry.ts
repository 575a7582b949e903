/**
 * Where the guest picture sits inside the canvas element (scaled to fit, aspect kept, centred,
 * like CSS `object-fit: contain`), and the pointer position over it as 0..1 fractions for the
 * USB tablet.
 */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function containedRect(boxWidth: number, boxHeight: number, frameWidth: number, frameHeight: number): Rect {
  if (boxWidth <= 0 || boxHeight <= 0 || frameWidth <= 0 || frameHeight <= 0) return { x: 0, y: 0, width: 0, height: 0 };
  const scale = Math.min(boxWidth / frameWidth, boxHeight / frameHeight);
  const width = frameWidth * scale;
  const height = frameHeight * scale;
  return { x: (boxWidth - width) / 2, y: (boxHeight - height) / 2, width, height };
}

/** The pointer at (`px`, `py`) in the box as fractions of the picture, clamped to 0..1. */
export function pointerFraction(px: number, py: number, picture: Rect): { x: number; y: number } {
  const clamp = (v: number) => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0);
  return { x: clamp((px - picture.x) / picture.width), y: clamp((py - picture.y) / picture.height) };
}
