import { describe, expect, it } from 'vitest';
import { comboKeyEvents, keyForCharacter, textToKeyEvents } from '../../web/text-keys.ts';
import { set2ForCode } from '../../src/devices/ps2-scancodes.ts';

describe('text to key presses (default en-us layout)', () => {
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
    expect(() => textToKeyEvents('a€bé')).toThrow(`cannot type "€", "é" with the en-us keyboard layout (keymap='en-us')`);
  });

  it('presses a combination in order and releases it in reverse', () => {
    expect(comboKeyEvents(['ControlLeft', 'AltLeft', 'F2'])).toEqual([
      { code: 'ControlLeft', down: true }, { code: 'AltLeft', down: true }, { code: 'F2', down: true },
      { code: 'F2', down: false }, { code: 'AltLeft', down: false }, { code: 'ControlLeft', down: false },
    ]);
  });
});

const downs = (text: string, keymap: string) => textToKeyEvents(text, keymap).filter((e) => e.down).map((e) => e.code);

describe('text to key presses for the guest keymap', () => {
  it('de: y and z swap, Shift+7 is /, AltGr+Q is @, umlauts and ß have their own keys', () => {
    expect(downs('yz/@', 'de')).toEqual(['KeyZ', 'KeyY', 'ShiftLeft', 'Digit7', 'AltRight', 'KeyQ']);
    expect(downs('äöüß', 'de')).toEqual(['Quote', 'Semicolon', 'BracketLeft', 'Minus']);
  });

  it('de: AltGr is held around the key and released after it', () => {
    expect(textToKeyEvents('{', 'de')).toEqual([
      { code: 'AltRight', down: true }, { code: 'Digit7', down: true }, { code: 'Digit7', down: false }, { code: 'AltRight', down: false },
    ]);
  });

  it('de: a lone ^ is the dead key followed by Space', () => {
    expect(downs('^', 'de')).toEqual(['Backquote', 'Space']);
  });

  it('fr: AZERTY letters, digits need Shift, and ^ uses the direct AltGr+9 rather than the dead key', () => {
    expect(downs('aqzwm', 'fr')).toEqual(['KeyQ', 'KeyA', 'KeyW', 'KeyZ', 'Semicolon']);
    expect(downs('1', 'fr')).toEqual(['ShiftLeft', 'Digit1']);
    expect(downs('é&', 'fr')).toEqual(['Digit2', 'Digit1']);
    expect(downs('^', 'fr')).toEqual(['AltRight', 'Digit9']);
  });

  it('en-gb: " is Shift+2, @ is Shift+quote, # and \\ have the ISO keys', () => {
    expect(downs('"@#\\', 'en-gb')).toEqual(['ShiftLeft', 'Digit2', 'ShiftLeft', 'Quote', 'Backslash', 'IntlBackslash']);
  });

  it('types a shell line on every layout with keys the PS/2 keyboard has', () => {
    for (const keymap of ['en-us', 'en-gb', 'de', 'fr', 'es', 'it']) {
      const events = textToKeyEvents('echo ok=$((6*7)) > /tmp/x; cat /tmp/x\n', keymap);
      for (const e of events) expect(set2ForCode(e.code), `${keymap} ${e.code}`).toBeDefined();
    }
  });

  it('refuses what the layout cannot type, naming the layout', () => {
    expect(() => textToKeyEvents('~', 'it')).toThrow(`cannot type "~" with the it keyboard layout (keymap='it')`);
  });

  it('types an unknown keymap as en-us (the configuration warns about it)', () => {
    expect(downs('yz', 'xx')).toEqual(['KeyY', 'KeyZ']);
    expect(() => keyForCharacter('a', 'xx')).toThrow(/no keyboard layout/);
  });
});
