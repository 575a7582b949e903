// MMX tests: the same snippets run on this machine's CPU and in the bare machine (see
// fpu-native.ts), so expected values come from hardware; plus the x87 aliasing rules.
import { describe, expect, it } from 'vitest';
import { runNative, runEmulated, compareRecords } from './fpu-native.ts';

const ops = [
  'paddb', 'paddw', 'paddd', 'paddsb', 'paddsw', 'paddusb', 'paddusw',
  'psubb', 'psubw', 'psubd', 'psubsb', 'psubsw', 'psubusb', 'psubusw',
  'pmullw', 'pmulhw', 'pmaddwd', 'pand', 'pandn', 'por', 'pxor',
  'pcmpeqb', 'pcmpeqw', 'pcmpeqd', 'pcmpgtb', 'pcmpgtw', 'pcmpgtd',
  'packsswb', 'packssdw', 'packuswb',
  'punpcklbw', 'punpcklwd', 'punpckldq', 'punpckhbw', 'punpckhwd', 'punpckhdq',
  'psllw', 'pslld', 'psllq', 'psrlw', 'psrld', 'psrlq', 'psraw', 'psrad',
];

// Each operation on three operand pairs, register and memory source forms.
function arithmeticSnippet(): string {
  const lines: string[] = [];
  let out = 0;
  for (const op of ops) {
    const shift = /^ps[lr]/.test(op);
    for (const [a, b] of [['va', 'vb'], ['vc', 'vd'], ['vb', 'va']]) {
      const src = shift ? (a === 'va' ? 'cnt4' : a === 'vc' ? 'cnt17' : 'cnt70') : b;
      lines.push(`  movq mm1, [${a}]`, `  movq mm2, [${src}]`, `  ${op} mm1, mm2`, `  movq [edi + ${out}], mm1`);
      out += 8;
      if (a !== 'va') continue;
      lines.push(`  movq mm3, [${a}]`, `  ${op} mm3, [${src}]`, `  movq [edi + ${out}], mm3`);
      out += 8;
    }
  }
  // Immediate shifts (0F 71-73).
  for (const [op, n] of [['psllw', 3], ['psrlw', 15], ['psraw', 9], ['pslld', 31], ['psrld', 5], ['psrad', 33], ['psllq', 40], ['psrlq', 63], ['psraw', 16]] as const) {
    lines.push(`  movq mm4, [vc]`, `  ${op} mm4, ${n}`, `  movq [edi + ${out}], mm4`);
    out += 8;
  }
  // MOVD both ways, zero extension, and to/from a general register.
  lines.push('  mov eax, 0x89abcdef', '  movd mm5, eax', `  movq [edi + ${out}], mm5`);
  out += 8;
  lines.push('  movd mm6, [va + 4]', `  movq [edi + ${out}], mm6`, '  movq mm7, [vd]', `  movd [edi + ${out + 8}], mm7`, '  movd ecx, mm7', `  mov [edi + ${out + 12}], ecx`);
  out += 16;
  lines.push('  emms', '  ret');
  lines.push('align 8', 'va: dq 0x7f80_0102_8000_7fff', 'vb: dq 0x0180_ff03_8001_0001', 'vc: dq 0xfedc_ba98_7654_3210', 'vd: dq 0x8000_0000_ffff_ffff');
  lines.push('cnt4: dq 4', 'cnt17: dq 17', 'cnt70: dq 70');
  if (out > 2048) throw new Error('too many results');
  return lines.join('\n');
}

describe('MMX against this machine\'s CPU', () => {
  it('arithmetic, saturation, compares, packs, unpacks, shifts and moves', () => {
    const body = arithmeticSnippet();
    const native = runNative(body);
    const emulated = runEmulated(body);
    expect(compareRecords(native, emulated, 8, 256)).toEqual([]);
  });

  it('aliases the x87 registers: TOP = 0, tags, exponent all ones, EMMS', () => {
    const body = `
  fld1
  fld1
  movq mm0, [pat]              ; TOP = 0, all tags valid, R0 exponent = FFFF
  fnstenv [edi + 0x800]
  mov ax, [edi + 0x804]
  mov [edi + 0], ax            ; status word: TOP 0
  mov ax, [edi + 0x808]
  mov [edi + 2], ax            ; tag word computed from the contents
  fnsave [edi + 0x900]
  mov eax, [edi + 0x900 + 28]
  mov [edi + 8], eax           ; ST(0) = R0 = MM0: significand and exponent
  mov eax, [edi + 0x900 + 32]
  mov [edi + 12], eax
  mov ax, [edi + 0x900 + 36]
  mov [edi + 16], ax
  movq mm1, [pat]
  emms
  fnstenv [edi + 0x800]
  mov ax, [edi + 0x808]
  mov [edi + 18], ax           ; all empty after EMMS
  fld qword [one]              ; x87 use after EMMS works
  fstp qword [edi + 24]
  fld qword [one]
  movd eax, mm1                ; a read also sets TOP = 0
  fnstsw ax
  mov [edi + 32], ax
  emms
  ret
align 8
pat: dq 0x0123456789abcdef
one: dq 1.0
`;
    const native = runNative(body);
    const emulated = runEmulated(body);
    expect(compareRecords(native, emulated, 8, 5)).toEqual([]);
  });
});
