import { describe, expect, it } from 'vitest';
import { encodeState, decodeState } from '../../src/snapshot/state-codec.ts';

describe('snapshot state codec', () => {
  it('keeps typed arrays, bigints and numbers JSON cannot write', () => {
    const state = {
      version: 2, cmos: new Uint8Array([1, 2, 255]), vbe: new Uint16Array([0xffff, 3]), irr: new Uint32Array([0x80000000]),
      t: new Float64Array([1.5]), big: 1n << 70n, never: Infinity, minus: -Infinity, nan: NaN, zero: -0,
      nested: [{ ok: true, s: 'x' }, null],
    };
    const back = decodeState(encodeState(state)) as typeof state;
    expect(back.cmos).toEqual(state.cmos);
    expect(back.vbe).toBeInstanceOf(Uint16Array);
    expect(Array.from(back.vbe)).toEqual([0xffff, 3]);
    expect(back.irr[0]).toBe(0x80000000);
    expect(back.t[0]).toBe(1.5);
    expect(back.big).toBe(1n << 70n);
    expect(back.never).toBe(Infinity);
    expect(back.minus).toBe(-Infinity);
    expect(back.nan).toBeNaN();
    expect(Object.is(back.zero, -0)).toBe(true);
    expect(back.nested).toEqual([{ ok: true, s: 'x' }, null]);
  });
  it('refuses what it cannot save faithfully', () => {
    expect(() => encodeState({ m: new Map() })).toThrow(/Map/);
    expect(() => decodeState(new TextEncoder().encode('{"a":{"$typed":"Nope","base64":""}}'))).toThrow(/unknown typed array/);
  });
});
