import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { StateVersionError } from '../../src/bus/device.ts';
import { Imcr } from '../../src/devices/imcr.ts';

function setup() {
  const io = new IoBus();
  const modes: boolean[] = [];
  const imcr = new Imcr({ io, onModeChange: (symmetric) => modes.push(symmetric) });
  return { io, imcr, modes };
}

describe('Imcr', () => {
  it('starts in PIC mode and switches with the MP specification sequence', () => {
    const { io, imcr, modes } = setup();
    expect(imcr.symmetricIo).toBe(false);
    io.write(0x22, 1, 0x70);
    expect(io.read(0x23, 1)).toBe(0);
    io.write(0x23, 1, 0x01); // as Linux's imcr_pic_to_apic
    expect(imcr.symmetricIo).toBe(true);
    expect(io.read(0x23, 1)).toBe(1);
    io.write(0x23, 1, 0x01); // no change: no callback
    io.write(0x22, 1, 0x70);
    io.write(0x23, 1, 0xfe); // only bit 0 counts
    expect(modes).toEqual([true, false]);
    expect(io.read(0x23, 1)).toBe(0);
  });

  it('ignores data accesses while another register is selected', () => {
    const { io, imcr, modes } = setup();
    io.write(0x22, 1, 0x71);
    io.write(0x23, 1, 0x01);
    expect(imcr.symmetricIo).toBe(false);
    expect(io.read(0x23, 1)).toBe(0xff);
    expect(io.read(0x22, 1)).toBe(0xff);
    expect(modes).toEqual([]);
  });

  it('returns to PIC mode on reset, telling the machine', () => {
    const { io, imcr, modes } = setup();
    io.write(0x22, 1, 0x70);
    io.write(0x23, 1, 1);
    imcr.reset();
    expect(imcr.symmetricIo).toBe(false);
    expect(modes).toEqual([true, false]);
    expect(io.read(0x23, 1)).toBe(0xff); // the selection is gone too
  });

  it('saves and restores the mode and selection', () => {
    const a = setup();
    a.io.write(0x22, 1, 0x70);
    a.io.write(0x23, 1, 1);
    const b = setup();
    b.imcr.loadState(a.imcr.saveState());
    expect(b.modes).toEqual([true]);
    expect(b.io.read(0x23, 1)).toBe(1);
    expect(() => b.imcr.loadState({ version: 0 })).toThrow(StateVersionError);
  });
});
