/**
 * Run one 32-bit x87/MMX snippet twice: natively (assembled with nasm into an ELF object,
 * linked by gcc -m32 and executed on this machine's CPU) and in the bare machine (flat 32-bit
 * protected mode entered from the reset vector). The snippet gets EDI = a 16-byte aligned
 * buffer, writes its results into the first 2 KiB, may use [edi+0x800..0xfff] as scratch,
 * and returns with RET. Both runs start after FNINIT; the results are compared byte for byte,
 * so the expected values come from real hardware, not from the emulator.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble, BareMachine, type BareMachineOptions } from './bare-machine.ts';

export const RESULT_BYTES = 2048;

/** Run the snippet natively; returns the result buffer. */
export function runNative(body: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'webhvm-fpu-'));
  try {
    writeFileSync(join(dir, 's.asm'), `bits 32
section .text
global snippet_run
snippet_run:
  push ebp
  push ebx
  push esi
  push edi
  mov edi, [esp + 20]
  fninit
  call snippet
  emms
  fninit
  pop edi
  pop esi
  pop ebx
  pop ebp
  ret
snippet:
${body}
  ret
`);
    writeFileSync(join(dir, 'main.c'), `#include <stdio.h>
extern void snippet_run(unsigned char *);
static unsigned char buf[4096] __attribute__((aligned(16)));
int main(void) {
  snippet_run(buf);
  for (int i = 0; i < ${RESULT_BYTES}; i++) printf("%02x", buf[i]);
  return 0;
}
`);
    execFileSync('nasm', ['-f', 'elf32', '-o', join(dir, 's.o'), join(dir, 's.asm')], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('gcc', ['-m32', '-O0', '-o', join(dir, 'run'), join(dir, 'main.c'), join(dir, 's.o')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const hex = execFileSync(join(dir, 'run'), { encoding: 'utf8' });
    return Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The ROM around a 32-bit snippet: GDT, switch to flat protected mode (CR0 = PE|MP|NE plus
 * `cr0Extra`), EDI = 0x10000, FNINIT, call, then dump the result buffer through port 0xF0.
 */
export function protectedModeRom(body: string, cr0Extra = 0, extra = ''): string {
  return `
bits 16
org 0xf0000
start:
  cli
  mov ax, 0xf000
  mov ds, ax
  o32 lgdt [gdtr - 0xf0000]
  mov eax, cr0
  or eax, 0x23 | ${cr0Extra}
  mov cr0, eax
  jmp dword 0x08:pm
bits 32
pm:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov fs, ax
  mov gs, ax
  mov esp, 0x80000
  mov edi, 0x10000
  fninit
  call snippet
  mov esi, 0x10000
  mov ecx, ${RESULT_BYTES / 4}
.dump:
  lodsd
  out 0xf0, eax
  loop .dump
  out 0xf4, al
snippet:
${body}
  ret
${extra}
align 8
gdt:
  dq 0
  dq 0x00cf9a000000ffff
  dq 0x00cf92000000ffff
gdtr:
  dw 23
  dd gdt
times 0xfff0 - ($ - $$) db 0
bits 16
  jmp 0xf000:start - 0xf0000
times 0x10000 - ($ - $$) db 0
`;
}

/** Run the snippet in the bare machine; returns the result buffer. */
export function runEmulated(body: string, options: BareMachineOptions = {}): Uint8Array {
  const m = new BareMachine(assemble(protectedModeRom(body)), options);
  const r = m.run(5_000_000);
  if (r.stop !== 'exit') throw new Error(`snippet did not finish: ${r.stop} ${m.cpu.describe()}`);
  const out = new Uint8Array(RESULT_BYTES);
  const view = new DataView(out.buffer);
  r.values.forEach((v, i) => view.setUint32(i * 4, v, true));
  return out;
}

export function hexDump(bytes: Uint8Array, from: number, to: number): string {
  return Array.from(bytes.slice(from, to), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Compare both runs per 8/16-byte record so a failure names the record that differs. */
export function compareRecords(native: Uint8Array, emulated: Uint8Array, recordBytes: number, count: number): string[] {
  const diffs: string[] = [];
  for (let i = 0; i < count; i++) {
    const a = hexDump(native, i * recordBytes, (i + 1) * recordBytes);
    const b = hexDump(emulated, i * recordBytes, (i + 1) * recordBytes);
    if (a !== b) diffs.push(`record ${i}: native ${a} emulated ${b}`);
  }
  return diffs;
}
