import { describe, expect, it } from 'vitest';
import { IoBus } from '../../src/bus/io-bus.ts';
import { StateVersionError } from '../../src/bus/device.ts';
import { DebugConsolePort, PostCodePort } from '../../src/devices/debug-ports.ts';

describe('PostCodePort', () => {
  it('remembers and reports the last POST code and reads it back', () => {
    const io = new IoBus();
    const codes: number[] = [];
    const post = new PostCodePort({ io, onPostCode: (c) => codes.push(c) });
    expect(post.lastCode).toBe(0);
    io.write(0x80, 1, 0x55);
    io.write(0x80, 1, 0x1aa);
    expect(post.lastCode).toBe(0xaa);
    expect(io.read(0x80, 1)).toBe(0xaa);
    expect(codes).toEqual([0x55, 0xaa]);
    expect(io.read(0x81, 1)).toBe(0xff); // not ours
  });

  it('saves, restores and resets', () => {
    const io = new IoBus();
    const post = new PostCodePort({ io });
    io.write(0x80, 1, 0x42);
    const saved = post.saveState();
    post.reset();
    expect(post.lastCode).toBe(0);
    post.loadState(structuredClone(saved));
    expect(post.lastCode).toBe(0x42);
    expect(() => post.loadState({ version: 0, code: 1 })).toThrow(StateVersionError);
    expect(() => post.loadState({ version: 1 })).toThrow(/code/);
  });
});

describe('DebugConsolePort', () => {
  it('passes bytes written to 0xE9 and 0x402 to the output, and reads back 0xE9', () => {
    const io = new IoBus();
    const bytes: number[] = [];
    new DebugConsolePort({ io, output: (b) => bytes.push(b) });
    for (const ch of 'Hi\n') io.write(0x402, 1, ch.charCodeAt(0));
    io.write(0xe9, 1, 0x21);
    expect(String.fromCharCode(...bytes)).toBe('Hi\n!');
    expect(io.read(0x402, 1)).toBe(0xe9);
    expect(io.read(0xe9, 1)).toBe(0xe9);
    expect(io.read(0x403, 1)).toBe(0xff);
  });

  it('can answer other ports and splits word writes into bytes', () => {
    const io = new IoBus();
    const bytes: number[] = [];
    const con = new DebugConsolePort({ io, output: (b) => bytes.push(b), ports: [0x500] });
    io.write(0x500, 2, 0x4241); // low byte reaches the console, high byte goes to 0x501 (unclaimed)
    expect(bytes).toEqual([0x41]);
    expect(io.read(0xe9, 1)).toBe(0xff);
    expect(() => con.loadState({ version: 3 })).toThrow(StateVersionError);
    con.loadState(con.saveState());
  });
});
