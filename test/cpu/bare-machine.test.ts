import { describe, expect, it } from 'vitest';
import { runBare } from './bare-machine.ts';

const rom = (body: string) => `
bits 16
org 0xf0000
start:
${body}
times 0xfff0 - ($ - $$) db 0
  jmp 0xf000:start
times 0x10000 - ($ - $$) db 0
`;

describe('CPU from reset in a bare machine', () => {
  it('starts at F000:FFF0 in real mode and runs 16-bit code', () => {
    const r = runBare(rom(`
  mov ax, 0x1234
  add ax, 0x1111
  mov cx, 10
.loop:
  inc dx
  loop .loop
  mov al, 'O'
  out 0xe9, al
  mov al, 'K'
  out 0xe9, al
  mov eax, edx
  out 0xf0, eax
  out 0xf4, al
`));
    expect(r.stop).toBe('exit');
    expect(r.output).toBe('OK');
    // EDX holds the processor signature after reset (0x683), then counted up 10 times.
    expect(r.values).toEqual([0x683 + 10]);
  });

  it('delivers a divide error through the real-mode IVT', () => {
    const r = runBare(rom(`
  xor ax, ax
  mov ds, ax
  mov ss, ax
  mov sp, 0x7000
  mov word [0], handler
  mov word [2], 0xf000
  mov ax, 1
  xor bl, bl
  div bl
  mov al, 'X'
  out 0xe9, al
  out 0xf4, al
handler:
  mov bp, sp
  mov eax, [bp]            ; return IP and CS
  out 0xf0, eax
  out 0xf4, al
`));
    expect(r.stop).toBe('exit');
    expect(r.output).toBe('');
    // The saved IP points at the DIV itself (a fault), CS = F000.
    const ip = r.values[0] & 0xffff;
    expect(r.values[0] >>> 16).toBe(0xf000);
    expect(ip).toBeGreaterThan(0x10);
    expect(ip).toBeLessThan(0x30);
  });

  it('POP [ESP] addresses its destination with ESP already incremented (pushf; pop [esp])', () => {
    const r = runBare(rom(`
  xor ax, ax
  mov ss, ax
  mov esp, 0x7000
  push dword 0x11111111      ; the local slot at 0x6ffc
  push dword 0x22222222      ; the value popped, at 0x6ff8
  pop dword [esp]            ; ESP becomes 0x6ffc, then the value goes to [0x6ffc]
  mov eax, [ss:0x6ffc]
  out 0xf0, eax
  mov eax, esp
  out 0xf0, eax
  out 0xf4, al
`));
    expect(r.values).toEqual([0x22222222, 0x6ffc]);
  });

  it('counts PAUSE as 100 instruction-times and NOP as one (the TSC follows the count)', () => {
    const r = runBare(rom(`
  rdtsc
  mov ebx, eax
  times 10 nop
  rdtsc
  sub eax, ebx
  out 0xf0, eax
  rdtsc
  mov ebx, eax
  times 10 pause
  rdtsc
  sub eax, ebx
  out 0xf0, eax
  out 0xf4, al
`));
    expect(r.stop).toBe('exit');
    const [nops, pauses] = r.values;
    expect(nops).toBeGreaterThanOrEqual(10);
    expect(pauses - nops).toBe(10 * 99);
  });
});
