import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { IrqLine } from '../../src/bus/irq-line.ts';
import { StateVersionError } from '../../src/bus/device.ts';
import { I8042 } from '../../src/devices/i8042.ts';
import { Ps2Keyboard } from '../../src/devices/ps2-keyboard.ts';

/** The keyboard behind a real i8042 on a real IoBus, translation off unless asked. */
function setup(translate = false) {
  const io = new IoBus();
  const irq1 = new IrqLine('irq1');
  const keyboard = new Ps2Keyboard();
  new I8042({ io, irqKeyboard: irq1, irqMouse: new IrqLine('irq12'), setA20: () => {}, requestReset: () => {}, keyboard });
  io.write(0x64, 1, 0x60);
  io.write(0x60, 1, translate ? 0x41 : 0x01);
  const drain = () => {
    const out: number[] = [];
    while (io.read(0x64, 1) & 1) out.push(io.read(0x60, 1));
    return out;
  };
  const send = (...bytes: number[]) => {
    for (const b of bytes) io.write(0x60, 1, b);
    return drain();
  };
  return { io, irq1, keyboard, drain, send };
}

describe('Ps2Keyboard', () => {
  it('resets with ACK then self-test passed', () => {
    const t = setup();
    expect(t.send(0xff)).toEqual([0xfa, 0xaa]);
  });

  it('identifies as an MF II keyboard (translated: AB 41)', () => {
    expect(setup().send(0xf2)).toEqual([0xfa, 0xab, 0x83]);
    expect(setup(true).send(0xf2)).toEqual([0xfa, 0xab, 0x41]);
  });

  it('sets LEDs with 0xED', () => {
    const t = setup();
    expect(t.send(0xed)).toEqual([0xfa]);
    expect(t.send(0x05)).toEqual([0xfa]);
    expect(t.keyboard.ledState).toBe(0x05);
  });

  it('reports and selects scan code sets, refusing invalid ones', () => {
    const t = setup();
    expect(t.send(0xf0, 0x00)).toEqual([0xfa, 0xfa, 0x02]);
    expect(t.send(0xf0, 0x03)).toEqual([0xfa, 0xfa]);
    expect(t.send(0xf0, 0x00)).toEqual([0xfa, 0xfa, 0x03]);
    expect(t.send(0xf0, 0x01)).toEqual([0xfa, 0xfa]);
    expect(t.keyboard.currentScancodeSet).toBe(1);
    expect(t.send(0xf0, 0x07)).toEqual([0xfa, 0xfe]);
    expect(t.keyboard.currentScancodeSet).toBe(1);
  });

  it('reports the set through translation as 0x41 for set 2', () => {
    expect(setup(true).send(0xf0, 0x00)).toEqual([0xfa, 0xfa, 0x41]);
  });

  it('stores the typematic byte and restores it with defaults', () => {
    const t = setup();
    expect(t.send(0xf3, 0x7f)).toEqual([0xfa, 0xfa]);
    expect(t.keyboard.typematicByte).toBe(0x7f);
    expect(t.send(0xf6)).toEqual([0xfa]);
    expect(t.keyboard.typematicByte).toBe(0x2b);
  });

  it('echoes 0xEE without ACK and resends the last byte on 0xFE', () => {
    const t = setup();
    expect(t.send(0xee)).toEqual([0xee]);
    expect(t.send(0xf2)).toEqual([0xfa, 0xab, 0x83]);
    expect(t.send(0xfe)).toEqual([0x83]);
  });

  it('answers unknown commands with 0xFE', () => {
    const t = setup();
    expect(t.send(0x12)).toEqual([0xfe]);
    expect(t.send(0xef)).toEqual([0xfe]);
  });

  it('a command in place of an argument aborts the pending command', () => {
    const t = setup();
    expect(t.send(0xed)).toEqual([0xfa]);
    expect(t.send(0xf2)).toEqual([0xfa, 0xab, 0x83]);
    expect(t.keyboard.ledState).toBe(0);
  });

  it('sends set 2 make/break codes for W3C key codes, with IRQ1', () => {
    const t = setup();
    expect(t.keyboard.keyDown('KeyA')).toBe(true);
    expect(t.irq1.level).toBe(true);
    expect(t.drain()).toEqual([0x1c]);
    t.keyboard.keyUp('KeyA');
    expect(t.drain()).toEqual([0xf0, 0x1c]);
    t.keyboard.keyDown('ArrowLeft');
    t.keyboard.keyUp('ArrowLeft');
    expect(t.drain()).toEqual([0xe0, 0x6b, 0xe0, 0xf0, 0x6b]);
    t.keyboard.keyDown('ControlRight');
    expect(t.drain()).toEqual([0xe0, 0x14]);
  });

  it('sends set 1 codes through controller translation', () => {
    const t = setup(true);
    t.keyboard.keyDown('Enter');
    t.keyboard.keyUp('Enter');
    expect(t.drain()).toEqual([0x1c, 0x9c]);
    t.keyboard.keyDown('F1');
    t.keyboard.keyDown('F7');
    expect(t.drain()).toEqual([0x3b, 0x41]);
    t.keyboard.keyDown('Pause');
    t.keyboard.keyUp('Pause');
    expect(t.drain()).toEqual([0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5]);
    t.keyboard.keyDown('PrintScreen');
    t.keyboard.keyUp('PrintScreen');
    expect(t.drain()).toEqual([0xe0, 0x2a, 0xe0, 0x37, 0xe0, 0xb7, 0xe0, 0xaa]);
  });

  it('produces set 1 itself when the guest selects set 1 without translation', () => {
    const t = setup();
    t.send(0xf0, 0x01);
    t.keyboard.keyDown('KeyA');
    t.keyboard.keyUp('NumpadDivide');
    expect(t.drain()).toEqual([0x1e, 0xe0, 0xb5]);
  });

  it('accepts raw set 2 sequences and refuses unknown key names', () => {
    const t = setup();
    expect(t.keyboard.keyDown([0xe0, 0x1f])).toBe(true);
    expect(t.drain()).toEqual([0xe0, 0x1f]);
    expect(t.keyboard.keyDown('NoSuchKey')).toBe(false);
    expect(t.keyboard.keyDown('toString')).toBe(false);
    expect(t.drain()).toEqual([]);
  });

  it('drops keys while scanning is disabled and resumes after 0xF4', () => {
    const t = setup();
    expect(t.send(0xf5)).toEqual([0xfa]);
    t.keyboard.keyDown('KeyB');
    expect(t.drain()).toEqual([]);
    expect(t.send(0xf4)).toEqual([0xfa]);
    t.keyboard.keyDown('KeyB');
    expect(t.drain()).toEqual([0x32]);
  });

  it('overflows its 16-byte buffer with 0x00 and recovers when drained', () => {
    const t = setup();
    t.io.write(0x64, 1, 0xad); // hold bytes in the keyboard
    for (let i = 0; i < 10; i++) t.keyboard.keyDown('ArrowUp'); // 20 bytes offered
    t.io.write(0x64, 1, 0xae);
    const got = t.drain();
    expect(got.length).toBe(16);
    expect(got.slice(0, 14)).toEqual([0xe0, 0x75, 0xe0, 0x75, 0xe0, 0x75, 0xe0, 0x75, 0xe0, 0x75, 0xe0, 0x75, 0xe0, 0x75]);
    expect(got[15]).toBe(0x00);
    t.keyboard.keyDown('KeyA');
    expect(t.drain()).toEqual([0x1c]);
  });

  it('the overflow code reads 0xFF through translation', () => {
    const t = setup(true);
    t.io.write(0x64, 1, 0xad);
    for (let i = 0; i < 17; i++) t.keyboard.keyDown('KeyA');
    t.io.write(0x64, 1, 0xae);
    const got = t.drain();
    expect(got.length).toBe(16);
    expect(got[15]).toBe(0xff);
  });

  it('acknowledges set 3 key-type commands and their key lists', () => {
    const t = setup();
    expect(t.send(0xfb, 0x1c, 0x32)).toEqual([0xfa, 0xfa, 0xfa]);
    expect(t.send(0xf2)).toEqual([0xfa, 0xab, 0x83]);
  });

  it('saves and restores its state, refusing other versions', () => {
    const t = setup();
    t.send(0xf0, 0x03);
    t.send(0xed, 0x02);
    const saved = t.keyboard.saveState();
    t.keyboard.reset();
    expect(t.keyboard.currentScancodeSet).toBe(2);
    t.keyboard.loadState(saved);
    expect(t.keyboard.currentScancodeSet).toBe(3);
    expect(t.keyboard.ledState).toBe(2);
    expect(() => t.keyboard.loadState({ version: 0 })).toThrow(StateVersionError);
  });
});
