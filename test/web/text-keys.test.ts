import { describe, expect, it } from 'vitest';
import { comboKeyEvents, keyForCharacter, textToKeyEvents } from '../../web/text-keys.ts';
import { set2ForCode } from '../../src/devices/ps2-scancodes.ts';

describe('text to US-keyboard key presses', () => {
  it('types lower case, digits and unshifted symbols without Shift', () => {
    expect(textToKeyEvents('a1-')).toEqual([
      { code: 'KeyA', down: true }, { code: 'KeyA', down: false },
      { code: 'Digit1', down: true }, { code: 'Digit1', down: false },
      { code: 'Minus', down: true }, { code: 'Minus', down: false },
    ]);
  });

  it('holds Shift around capitals and shifted symbols', () => {
    expect(textToKeyEvents('E$')).toEqual([
      { code: 'ShiftLeft', down: true }, { code: 'KeyE', down: true }, { code: 'KeyE', down: false }, { code: 'ShiftLeft', down: false },
      { code: 'ShiftLeft', down: true }, { code: 'Digit4', down: true }, { code: 'Digit4', down: false }, { code: 'ShiftLeft', down: false },
    ]);
  });

  it('turns newlines (and CR LF) into one Enter each', () => {
    const codes = textToKeyEvents('x\r\ny\n').filter((e) => e.down).map((e) => e.code);
    expect(codes).toEqual(['KeyX', 'Enter', 'KeyY', 'Enter']);
  });

  it('maps every printable ASCII character to a key the PS/2 keyboard has', () => {
    for (let c = 0x20; c < 0x7f; c++) {
      const key = keyForCharacter(String.fromCharCode(c));
      expect(key, String.fromCharCode(c)).toBeDefined();
      expect(set2ForCode(key!.code), key!.code).toBeDefined();
    }
  });

  it('refuses characters a US keyboard cannot type, naming them', () => {
    expect(() => textToKeyEvents('a€bé')).toThrow('cannot type "€", "é" on a US keyboard');
  });

  it('presses a combination in order and releases it in reverse', () => {
    expect(comboKeyEvents(['ControlLeft', 'AltLeft', 'F2'])).toEqual([
      { code: 'ControlLeft', down: true }, { code: 'AltLeft', down: true }, { code: 'F2', down: true },
      { code: 'F2', down: false }, { code: 'AltLeft', down: false }, { code: 'ControlLeft', down: false },
    ]);
  });
});
