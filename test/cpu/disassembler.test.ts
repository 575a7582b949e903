import { describe, expect, it } from 'vitest';
import { disassemble, disassembleAll } from '../../src/cpu/disassembler.ts';
import { assemble } from './bare-machine.ts';
import { generateCases } from './differential/generator.ts';

const d = (hex: string, bits: 16 | 32 = 32, address = 0) => {
  const bytes = Uint8Array.from(hex.split(' ').map((b) => parseInt(b, 16)));
  const ins = disassemble(bytes, 0, { bits, address });
  expect(ins.length).toBe(bytes.length);
  return ins.text;
};

describe('disassembler', () => {
  it('decodes ALU forms, immediates and ModRM/SIB addressing in 32-bit code', () => {
    expect(d('01 d8')).toBe('add eax, ebx');
    expect(d('03 c3')).toBe('add eax, ebx');
    expect(d('83 c0 ff')).toBe('add eax, 0xffffffff');
    expect(d('66 83 c0 ff')).toBe('add ax, 0xffff');
    expect(d('80 7c 24 04 07')).toBe('cmp byte [esp+0x4], 0x7');
    expect(d('8b 44 b3 f0')).toBe('mov eax, dword [ebx+esi*4-0x10]');
    expect(d('8b 04 8d 00 10 00 00')).toBe('mov eax, dword [ecx*4+0x1000]');
    expect(d('8b 05 78 56 34 12')).toBe('mov eax, dword [0x12345678]');
    expect(d('8d 44 24 08')).toBe('lea eax, [esp+0x8]');
    expect(d('a1 00 20 00 00')).toBe('mov eax, dword [0x2000]');
    expect(d('0f b6 c1')).toBe('movzx eax, cl');
    expect(d('0f bf 06')).toBe('movsx eax, word [esi]');
    expect(d('0f a4 c2 05')).toBe('shld edx, eax, 0x5');
    expect(d('0f c7 0f')).toBe('cmpxchg8b qword [edi]');
    expect(d('c1 e0 04')).toBe('shl eax, 0x4');
    expect(d('d1 f8')).toBe('sar eax, 1');
    expect(d('f7 f1')).toBe('div ecx');
    expect(d('0f ca')).toBe('bswap edx');
  });

  it('shows every prefix', () => {
    expect(d('f0 0f c1 0b')).toBe('lock xadd dword [ebx], ecx');
    expect(d('f3 a5')).toBe('rep movsd');
    expect(d('f3 66 a7')).toBe('repe cmpsw');
    expect(d('f2 ae')).toBe('repne scasb');
    expect(d('26 8a 07')).toBe('mov al, byte [es:edi]');
    expect(d('2e ac')).toBe('cs lodsb');
    expect(d('66 f6 d1')).toBe('o16 not cl');
    expect(d('67 ac')).toBe('a16 lodsb');
    expect(d('67 8d 00')).toBe('lea eax, [bx+si]');
  });

  it('decodes 16-bit code, condition codes and branch targets', () => {
    expect(d('8b 46 fe', 16)).toBe('mov ax, word [bp-0x2]');
    expect(d('66 8b 07', 16)).toBe('mov eax, dword [bx]');
    expect(d('c6 06 34 12 ff', 16)).toBe('mov byte [0x1234], 0xff');
    expect(d('74 fe', 32, 0x1000)).toBe('je 0x1000');
    expect(d('0f 85 00 01 00 00', 32, 0x1000)).toBe('jne 0x1106');
    expect(d('e8 fd ff', 16, 0x100)).toBe('call 0x100');
    expect(d('0f 9c c0')).toBe('setl al');
    expect(d('0f 4f c1')).toBe('cmovg eax, ecx');
    expect(d('ea 00 00 00 f0', 16)).toBe('jmp far 0xf000:0x0');
    expect(d('98')).toBe('cwde');
    expect(d('66 98')).toBe('cbw');
  });

  it('marks bytes the table does not define and truncated instructions', () => {
    expect(disassemble(Uint8Array.of(0x0f, 0xff), 0).text).toBe('ud0');
    expect(disassemble(Uint8Array.of(0x0f, 0x0b), 0).text).toBe('ud2');
    expect(disassemble(Uint8Array.of(0xd8, 0xc0), 0).text).toMatch(/^(db 0xd8|fadd.*)$/);
    expect(disassemble(Uint8Array.of(0x8b), 0).text).toMatch(/truncated/);
    const all = disassembleAll(Uint8Array.of(0x90, 0x40, 0xc3), { address: 0x10 });
    expect(all.map((l) => [l.address, l.text])).toEqual([[0x10, 'nop'], [0x11, 'inc eax'], [0x12, 'ret']]);
  });

  it('shows x87 ST(i) and MMX MMn operands and the sizes of x87/MMX memory operands', () => {
    expect(d('d8 c1')).toBe('fadd st0, st1');
    expect(d('dc c1')).toBe('fadd st1, st0');
    expect(d('dc e1')).toBe('fsubr st1, st0'); // DC E0+i is FSUBR ST(i), ST(0)
    expect(d('dc e9')).toBe('fsub st1, st0');
    expect(d('de f9')).toBe('fdivp st1, st0');
    expect(d('de f1')).toBe('fdivrp st1, st0');
    expect(d('d9 c3')).toBe('fld st3');
    expect(d('d9 cf')).toBe('fxch st7');
    expect(d('dd d9')).toBe('fstp st1');
    expect(d('dd c2')).toBe('ffree st2');
    expect(d('d8 d1')).toBe('fcom st1');
    expect(d('de d9')).toBe('fcompp');
    expect(d('da c9')).toBe('fcmove st0, st1');
    expect(d('df f2')).toBe('fcomip st0, st2');
    expect(d('df e0')).toBe('fnstsw ax');
    expect(d('d9 e8')).toBe('fld1');
    expect(d('d8 03')).toBe('fadd dword [ebx]');
    expect(d('dc 0b')).toBe('fmul qword [ebx]');
    expect(d('de 03')).toBe('fiadd word [ebx]');
    expect(d('db 2b')).toBe('fld tword [ebx]');
    expect(d('df 33')).toBe('fbstp tword [ebx]');
    expect(d('dd 7b 04')).toBe('fnstsw word [ebx+0x4]');
    expect(d('d9 33')).toBe('fnstenv [ebx]');
    expect(d('0f fc ca')).toBe('paddb mm1, mm2');
    expect(d('0f fc 0b')).toBe('paddb mm1, qword [ebx]');
    expect(d('0f 60 0b')).toBe('punpcklbw mm1, [ebx]');
    expect(d('0f 6e c8')).toBe('movd mm1, eax');
    expect(d('0f 7e c8')).toBe('movd eax, mm1');
    expect(d('0f 7e 0b')).toBe('movd dword [ebx], mm1');
    expect(d('0f 6f d3')).toBe('movq mm2, mm3');
    expect(d('0f 7f d3')).toBe('movq mm3, mm2');
    expect(d('26 0f 7f 13')).toBe('movq qword [es:ebx], mm2');
    expect(d('0f 71 d1 03')).toBe('psrlw mm1, 0x3');
    expect(d('0f 73 f7 20')).toBe('psllq mm7, 0x20');
    expect(d('0f 77')).toBe('emms');
  });

  it('round-trips generated instructions through nasm', () => {
    // Disassemble generated instructions, assemble the text with nasm, and disassemble again:
    // nasm may pick other encodings, but the text must describe the same instruction.
    const cases = [
      ...generateCases(11, 30, { length: 40, classes: ['int', 'string', 'bcd'] }),
      ...generateCases(12, 40, { length: 40, classes: ['x87', 'mmx'] }),
    ];
    const texts: string[] = [];
    for (const c of cases) {
      for (const ins of c.instructions) texts.push(disassemble(Uint8Array.from(ins.bytes), 0).text);
    }
    // nasm has no syntax for MOVZX/MOVSX r16, r/m16 (66 0F B7/BF), a valid encoding.
    const unique = [...new Set(texts)].filter((t) => !/^mov[sz]x (ax|cx|dx|bx|sp|bp|si|di), (word |ax|cx|dx|bx|sp|bp|si|di)/.test(t));
    const source = `bits 32\n${unique.map((t) => `${t}\nnop\nnop\nnop\nnop\nnop\nnop\nnop\nnop`).join('\n')}\n`;
    const bytes = assemble(source);
    const again = disassembleAll(bytes).map((l) => l.text).filter((t) => t !== 'nop');
    // Encoding choices nasm makes differently: SAL is SHL, [r*2] is [r+r], XCHG operands
    // commute, a shift by an immediate 1 uses the D0/D1 form.
    const normalise = (t: string) => t
      .replace(/\bsal\b/, 'shl')
      .replace(/\[(\w+:)?(\w+)\*2(?=[-+\]])/, '[$1$2+$2')
      .replace(/^((?:lock )?xchg) ([^,]+), (.+)$/, (_m, x, a, b) => `${x} ${[a, b].sort().join(', ')}`)
      .replace(/^((?:o16 )?(?:rol|ror|rcl|rcr|shl|shr|sar) .*), 0x1$/, '$1, 1');
    expect(again.map(normalise)).toEqual(unique.map(normalise));
  });
});
