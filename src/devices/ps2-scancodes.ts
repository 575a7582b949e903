/**
 * Keyboard scan codes: the W3C `KeyboardEvent.code` names (UI Events KeyboardEvent code
 * values) mapped to PS/2 scan code set 2 make/break sequences, and the 8042 controller's
 * set 2 -> set 1 translation table.
 *
 * Sources: Microsoft "Keyboard Scan Code Specification" (Windows Platform Design Notes,
 * rev. 1.3a), which lists set 1 and set 2 for every key including the Japanese/Korean and
 * multimedia keys; the IBM PS/2 Technical Reference for the 8042 translation table.
 *
 * Left out: the "fake shift" prefixes a real keyboard adds around the navigation keys and
 * keypad `/` depending on Shift/Num Lock state (E0 12 / E0 F0 12), and the Ctrl+Pause (Break)
 * and Alt+PrintScreen (SysRq) variants. Guests decode the plain sequences correctly.
 *
 * This is data, not a device: both the PS/2 keyboard and the i8042 use it.
 */

export interface ScancodeSequence {
  make: readonly number[];
  /** Empty for keys that send no break code (Pause, Hangul, Hanja). */
  break: readonly number[];
}

/** A key with a one-byte set 2 code `c`: make `c`, break `F0 c`. */
function plain(code: number): ScancodeSequence {
  return { make: [code], break: [0xf0, code] };
}

/** An extended key: make `E0 c`, break `E0 F0 c`. */
function extended(code: number): ScancodeSequence {
  return { make: [0xe0, code], break: [0xe0, 0xf0, code] };
}

const table: Record<string, ScancodeSequence> = {
  Escape: plain(0x76),
  F1: plain(0x05),
  F2: plain(0x06),
  F3: plain(0x04),
  F4: plain(0x0c),
  F5: plain(0x03),
  F6: plain(0x0b),
  F7: plain(0x83),
  F8: plain(0x0a),
  F9: plain(0x01),
  F10: plain(0x09),
  F11: plain(0x78),
  F12: plain(0x07),
  F13: plain(0x08),
  F14: plain(0x10),
  F15: plain(0x18),
  F16: plain(0x20),
  F17: plain(0x28),
  F18: plain(0x30),
  F19: plain(0x38),
  F20: plain(0x40),
  F21: plain(0x48),
  F22: plain(0x50),
  F23: plain(0x57),
  F24: plain(0x5f),

  Backquote: plain(0x0e),
  Digit1: plain(0x16),
  Digit2: plain(0x1e),
  Digit3: plain(0x26),
  Digit4: plain(0x25),
  Digit5: plain(0x2e),
  Digit6: plain(0x36),
  Digit7: plain(0x3d),
  Digit8: plain(0x3e),
  Digit9: plain(0x46),
  Digit0: plain(0x45),
  Minus: plain(0x4e),
  Equal: plain(0x55),
  IntlYen: plain(0x6a),
  Backspace: plain(0x66),

  Tab: plain(0x0d),
  KeyQ: plain(0x15),
  KeyW: plain(0x1d),
  KeyE: plain(0x24),
  KeyR: plain(0x2d),
  KeyT: plain(0x2c),
  KeyY: plain(0x35),
  KeyU: plain(0x3c),
  KeyI: plain(0x43),
  KeyO: plain(0x44),
  KeyP: plain(0x4d),
  BracketLeft: plain(0x54),
  BracketRight: plain(0x5b),
  Backslash: plain(0x5d),

  CapsLock: plain(0x58),
  KeyA: plain(0x1c),
  KeyS: plain(0x1b),
  KeyD: plain(0x23),
  KeyF: plain(0x2b),
  KeyG: plain(0x34),
  KeyH: plain(0x33),
  KeyJ: plain(0x3b),
  KeyK: plain(0x42),
  KeyL: plain(0x4b),
  Semicolon: plain(0x4c),
  Quote: plain(0x52),
  Enter: plain(0x5a),

  ShiftLeft: plain(0x12),
  IntlBackslash: plain(0x61),
  KeyZ: plain(0x1a),
  KeyX: plain(0x22),
  KeyC: plain(0x21),
  KeyV: plain(0x2a),
  KeyB: plain(0x32),
  KeyN: plain(0x31),
  KeyM: plain(0x3a),
  Comma: plain(0x41),
  Period: plain(0x49),
  Slash: plain(0x4a),
  IntlRo: plain(0x51),
  ShiftRight: plain(0x59),

  ControlLeft: plain(0x14),
  MetaLeft: extended(0x1f),
  AltLeft: plain(0x11),
  NonConvert: plain(0x67),
  Space: plain(0x29),
  Convert: plain(0x64),
  KanaMode: plain(0x13),
  AltRight: extended(0x11),
  MetaRight: extended(0x27),
  ContextMenu: extended(0x2f),
  ControlRight: extended(0x14),
  // Hangul/Hanja keys send a make code only.
  Lang1: { make: [0xf2], break: [] },
  Lang2: { make: [0xf1], break: [] },

  PrintScreen: { make: [0xe0, 0x12, 0xe0, 0x7c], break: [0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12] },
  ScrollLock: plain(0x7e),
  // Pause sends its whole make-and-break sequence on press and nothing on release.
  Pause: { make: [0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77], break: [] },

  Insert: extended(0x70),
  Home: extended(0x6c),
  PageUp: extended(0x7d),
  Delete: extended(0x71),
  End: extended(0x69),
  PageDown: extended(0x7a),
  ArrowUp: extended(0x75),
  ArrowLeft: extended(0x6b),
  ArrowDown: extended(0x72),
  ArrowRight: extended(0x74),

  NumLock: plain(0x77),
  NumpadDivide: extended(0x4a),
  NumpadMultiply: plain(0x7c),
  NumpadSubtract: plain(0x7b),
  Numpad7: plain(0x6c),
  Numpad8: plain(0x75),
  Numpad9: plain(0x7d),
  NumpadAdd: plain(0x79),
  Numpad4: plain(0x6b),
  Numpad5: plain(0x73),
  Numpad6: plain(0x74),
  Numpad1: plain(0x69),
  Numpad2: plain(0x72),
  Numpad3: plain(0x7a),
  Numpad0: plain(0x70),
  NumpadDecimal: plain(0x71),
  NumpadEnter: extended(0x5a),
  NumpadEqual: plain(0x0f),
  NumpadComma: plain(0x6d),

  Power: extended(0x37),
  Sleep: extended(0x3f),
  WakeUp: extended(0x5e),
  AudioVolumeMute: extended(0x23),
  AudioVolumeDown: extended(0x21),
  AudioVolumeUp: extended(0x32),
  MediaTrackNext: extended(0x4d),
  MediaTrackPrevious: extended(0x15),
  MediaStop: extended(0x3b),
  MediaPlayPause: extended(0x34),
  MediaSelect: extended(0x50),
  LaunchMail: extended(0x48),
  LaunchApp1: extended(0x40),
  LaunchApp2: extended(0x2b),
  BrowserSearch: extended(0x10),
  BrowserHome: extended(0x3a),
  BrowserBack: extended(0x38),
  BrowserForward: extended(0x30),
  BrowserStop: extended(0x28),
  BrowserRefresh: extended(0x20),
  BrowserFavorites: extended(0x18),
};

/** Set 2 make/break sequences keyed by `KeyboardEvent.code`. */
export const SET2_BY_CODE: Readonly<Record<string, ScancodeSequence>> = table;

/** The set 2 sequences for a `KeyboardEvent.code`, or undefined for keys a PC keyboard lacks. */
export function set2ForCode(code: string): ScancodeSequence | undefined {
  return Object.prototype.hasOwnProperty.call(table, code) ? table[code] : undefined;
}

/**
 * The 8042's translation table from set 2 to set 1 for bytes 0x00-0x7f. The controller
 * translates every byte from the keyboard through it (command replies too, so an identify
 * answers AB 41 and "get scan code set" answers 43/41/3F when translation is on).
 * Bytes 0x80-0xff pass unchanged except 0x83 (F7) and 0x84 (Alt+SysRq).
 */
const SET2_TO_SET1_LOW = [
  0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
  0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
  0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
  0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
  0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
  0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
  0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
  0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
];

/** One byte through the 8042 translation table (without the F0 break-prefix handling). */
export function translateSet2Byte(byte: number): number {
  byte &= 0xff;
  if (byte < 0x80) return SET2_TO_SET1_LOW[byte];
  if (byte === 0x83) return 0x41;
  if (byte === 0x84) return 0x54;
  return byte;
}

/**
 * A whole set 2 sequence translated to set 1 as the 8042 does it: F0 is swallowed and sets
 * bit 7 of the next translated byte.
 */
export function translateSet2Sequence(bytes: readonly number[]): number[] {
  const out: number[] = [];
  let breakPrefix = false;
  for (const b of bytes) {
    if ((b & 0xff) === 0xf0) {
      breakPrefix = true;
      continue;
    }
    out.push(translateSet2Byte(b) | (breakPrefix ? 0x80 : 0));
    breakPrefix = false;
  }
  return out;
}
