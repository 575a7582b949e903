import { describe, expect, it } from 'vitest';
import { BareMachine, assemble } from './bare-machine.ts';
import { trace, flagString, currentInstruction } from '../../src/cpu/trace.ts';

const rom = (body: string) => assemble(`
bits 16
org 0xf0000
start:
${body}
times 0xfff0 - ($ - $$) db 0
  jmp 0xf000:start
times 0x10000 - ($ - $$) db 0
`);

const program = rom(`
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
  mov word [0], divide_error
  mov word [2], 0xf000
  mov cx, 3
.again:
  add ax, 0x10
  loop .again
  mov bl, 0
  div bl                  ; #DE through the IVT
  hlt
divide_error:
  mov dx, 0x1234
  hlt
`);

describe('trace mode', () => {
  it('traces a window from the Nth instruction with disassembly, registers and flags', () => {
    const m = new BareMachine(program);
    const r = trace(m.cpu, { fromInstruction: 2, count: 4 });
    expect(r.opened).toBe(true);
    expect(r.end).toBe('done');
    expect(r.lines).toHaveLength(4);
    // Instructions 0 and 1 are the reset vector's far jump and XOR AX, AX.
    expect(r.lines[0]).toMatch(/^\s+2\s+f000:00000002\s+8e d8\s+mov ds, ax\s+eax=00000000/);
    expect(r.lines[1]).toMatch(/mov ss, ax/);
    expect(r.lines[2]).toMatch(/mov sp, 0x7000 .* esp=00007000 /);
    expect(r.lines[3]).toMatch(/mov word \[0x0\], 0x[0-9a-f]+ /);
  });

  it('opens the window when EIP matches and shows exceptions as they are delivered', () => {
    const m = new BareMachine(program);
    const loopAt = () => {
      // Find the LOOP instruction's address by disassembling forward from the start.
      const probe = new BareMachine(program);
      for (let i = 0; i < 40; i++) {
        if (currentInstruction(probe.cpu).text.startsWith('loop')) return probe.cpu.eip;
        probe.cpu.run(1);
      }
      throw new Error('no loop found');
    };
    const eip = loopAt();
    const r = trace(m.cpu, { at: { cs: 0xf000, eip }, count: 12 });
    expect(r.opened).toBe(true);
    expect(r.lines[0]).toMatch(/loop 0x[0-9a-f]+ .* ecx=00000002 /);
    expect(r.lines[1]).toMatch(/add ax, 0x10 .* eax=00000020 /);
    const divLine = r.lines.find((l) => l.includes('div bl'));
    expect(divLine).toMatch(/! exception 0 -> f000:/);
    const after = r.lines[r.lines.indexOf(divLine!) + 1];
    expect(after).toMatch(/mov dx, 0x1234 .* edx=00001234 /);
    expect(r.end).toBe('halt');
  });

  it('reports a window that never opens', () => {
    const m = new BareMachine(program);
    const r = trace(m.cpu, { at: { eip: 0xdead }, count: 5, maxInstructions: 100 });
    expect(r.opened).toBe(false);
    expect(['not-found', 'halt']).toContain(r.end);
    expect(r.lines).toEqual([]);
  });

  it('writes flags as ODITSZAPC letters', () => {
    expect(flagString(0x2 | 0x1 | 0x40 | 0x800)).toBe('O----Z--C');
    expect(flagString(0x8d5 | 0x600)).toBe('ODI-SZAPC');
    expect(flagString(0x2)).toBe('---------');
  });
});
