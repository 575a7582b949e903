// MMX rows of the opcode table (0F 60-7F, 0F D0-FF, EMMS). The MMX register in ModRM.reg is
// not an operand kind the generator knows, so each instruction is written as a group over
// ModRM.reg (ext 0-7) with separate memory and register forms; `$reg` is the MMX destination,
// `$rm` the MMX (or general, for MOVD) register source. The 66/F2/F3-prefixed SSE2 forms of
// these opcodes do not exist on a Pentium II: prefixes are ignored as on that processor.
import type { OpcodeRow } from './row.ts';

const rows: OpcodeRow[] = [];
const add = (r: OpcodeRow) => rows.push(r);

/** One instruction as eight ext rows in memory and register form. */
function mmx(opcode: number, mnemonic: string, mem: string, reg: string): void {
  const size = /mmxLoad32|, 4\)/.test(mem) ? 'Md' : 'Mq';
  for (let ext = 0; ext < 8; ext++) {
    add({ opcode, ext, mod: 'mem', mnemonic, operands: [size], exec: `mmxEnter(); ${mem}`, test: 'mmx' });
    add({ opcode, ext, mod: 'reg', mnemonic, exec: `mmxEnter(); ${reg}`, test: 'mmx' });
  }
}

// dst = dst op src, with a 64-bit source (or 32-bit for the low-half unpacks).
const binary: [number, string, boolean?][] = [
  [0x60, 'PUNPCKLBW', true], [0x61, 'PUNPCKLWD', true], [0x62, 'PUNPCKLDQ', true], [0x63, 'PACKSSWB'],
  [0x64, 'PCMPGTB'], [0x65, 'PCMPGTW'], [0x66, 'PCMPGTD'], [0x67, 'PACKUSWB'],
  [0x68, 'PUNPCKHBW'], [0x69, 'PUNPCKHWD'], [0x6a, 'PUNPCKHDQ'], [0x6b, 'PACKSSDW'],
  [0x74, 'PCMPEQB'], [0x75, 'PCMPEQW'], [0x76, 'PCMPEQD'],
  [0xd1, 'PSRLW'], [0xd2, 'PSRLD'], [0xd3, 'PSRLQ'], [0xd5, 'PMULLW'], [0xd8, 'PSUBUSB'], [0xd9, 'PSUBUSW'],
  [0xdb, 'PAND'], [0xdc, 'PADDUSB'], [0xdd, 'PADDUSW'], [0xdf, 'PANDN'],
  [0xe1, 'PSRAW'], [0xe2, 'PSRAD'], [0xe5, 'PMULHW'], [0xe8, 'PSUBSB'], [0xe9, 'PSUBSW'], [0xeb, 'POR'],
  [0xec, 'PADDSB'], [0xed, 'PADDSW'], [0xef, 'PXOR'],
  [0xf1, 'PSLLW'], [0xf2, 'PSLLD'], [0xf3, 'PSLLQ'], [0xf5, 'PMADDWD'],
  [0xf8, 'PSUBB'], [0xf9, 'PSUBW'], [0xfa, 'PSUBD'], [0xfc, 'PADDB'], [0xfd, 'PADDW'], [0xfe, 'PADDD'],
];
for (const [op, mn, low] of binary) {
  const load = low ? 'mmxLoad32' : 'mmxLoad64';
  mmx(0x100 | op, mn, `mmxBinary(0x${op.toString(16)}, $reg, ${load}($seg, $1));`, `mmxBinary(0x${op.toString(16)}, $reg, mmxGet($rm));`);
}

mmx(0x16e, 'MOVD', 'mmxMove($reg, mmxLoad32($seg, $1));', 'mmxMove($reg, mmxReg32($rm));');
mmx(0x16f, 'MOVQ', 'mmxMove($reg, mmxLoad64($seg, $1));', 'mmxCopy($reg, $rm);');
mmx(0x17e, 'MOVD', 'mmxStore($seg, $1, $reg, 4);', 'mmxMovdToReg($rm, $reg);');
mmx(0x17f, 'MOVQ', 'mmxStore($seg, $1, $reg, 8);', 'mmxCopy($rm, $reg);');

// Shifts by an immediate: groups 0F 71 (words), 72 (dwords), 73 (qword); register form only.
const shiftGroups: [number, number, string][] = [
  [0x71, 2, 'PSRLW'], [0x71, 4, 'PSRAW'], [0x71, 6, 'PSLLW'],
  [0x72, 2, 'PSRLD'], [0x72, 4, 'PSRAD'], [0x72, 6, 'PSLLD'],
  [0x73, 2, 'PSRLQ'], [0x73, 6, 'PSLLQ'],
];
for (const [group, ext, mn] of shiftGroups) {
  add({ opcode: 0x100 | group, ext, mod: 'reg', mnemonic: mn, operands: ['Ib'], exec: `mmxEnter(); mmxShiftImm(0x${group.toString(16)}, ${ext}, $rm, $1);`, test: 'mmx' });
}

add({ opcode: 0x177, mnemonic: 'EMMS', exec: 'emms();', test: 'mmx' });

export const mmxRows = rows;
