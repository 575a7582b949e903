// x87 FPU rows of the opcode table (D8-DF escapes, FXSAVE/FXRSTOR). Memory forms take the
// effective address ('M') and do their own access so that #NM and a pending #MF come before any
// page fault; register forms select on ModRM.reg/rm. `fop` is the 11-bit FPU opcode recorded
// for FSTENV/FSAVE/FXSAVE: the escape's low three bits and the ModRM byte. Aliases that real P6
// processors execute (FCOM2, FCOMP3/5, FXCH4/7, FSTP1/8/9, FFREEP) are included.
import type { OpcodeRow } from './row.ts';

const rows: OpcodeRow[] = [];
const add = (r: OpcodeRow) => rows.push(r);
const fop = (escape: number) => `0x${(escape & 7).toString(16)}00 | modrm`;

// Memory-operand formats (see wasm/fpu-memory.ts FMT_*).
const M32 = 0, M64 = 1, I32 = 2, I16 = 3, M80 = 4, I64 = 5, BCD = 6;
// Operand specifiers with the memory size where the row format has one (m80 and images: 'M').
const memSize: Record<number, string> = { [M32]: 'Md', [M64]: 'Mq', [I32]: 'Md', [I16]: 'Mw', [M80]: 'M', [I64]: 'Mq', [BCD]: 'M' };
const arithNames = ['FADD', 'FMUL', 'FCOM', 'FCOMP', 'FSUB', 'FSUBR', 'FDIV', 'FDIVR'];

// ---- D8/DC/DA/DE memory forms: arithmetic and compares with m32/m64/m32int/m16int ----
for (const [escape, fmt, prefix] of [[0xd8, M32, 'F'], [0xdc, M64, 'F'], [0xda, I32, 'FI'], [0xde, I16, 'FI']] as const) {
  arithNames.forEach((name, ext) => {
    add({
      opcode: escape, ext, mod: 'mem', mnemonic: prefix + name.slice(1), operands: [memSize[fmt]],
      exec: `fpuArithMem(${fmt}, ${ext}, $seg, $1, ${fop(escape)});`, test: 'x87',
    });
  });
}

// ---- D8 register forms: ST(0) = ST(0) op ST(i) ----
arithNames.forEach((name, ext) => {
  const exec = ext === 2 || ext === 3
    ? `fpuCompareReg($rm, ${ext === 3 ? 1 : 0}, false, ${fop(0xd8)});`
    : `fpuArithReg(${ext}, $rm, false, false, ${fop(0xd8)});`;
  add({ opcode: 0xd8, ext, mod: 'reg', mnemonic: name, exec, test: 'x87' });
});

// ---- DC and DE register forms: ST(i) = ST(i) op ST(0) (FSUB/FSUBR and FDIV/FDIVR swap) ----
for (const [escape, pop] of [[0xdc, false], [0xde, true]] as const) {
  arithNames.forEach((name, ext) => {
    if (ext === 2 || ext === 3) {
      if (escape === 0xdc) {
        add({ opcode: escape, ext, mod: 'reg', mnemonic: name, exec: `fpuCompareReg($rm, ${ext === 3 ? 1 : 0}, false, ${fop(escape)});`, test: 'x87' });
      } else if (ext === 2) {
        add({ opcode: escape, ext, mod: 'reg', mnemonic: 'FCOMP', exec: `fpuCompareReg($rm, 1, false, ${fop(escape)});`, test: 'x87' });
      } else {
        add({ opcode: escape, ext, mod: 'reg', rm: 1, mnemonic: 'FCOMPP', exec: `fpuCompareReg(1, 2, false, ${fop(escape)});`, test: 'x87' });
      }
      return;
    }
    // DC/DE E0+i is FSUBR ST(i), ST(0) and E8+i FSUB (F0/F8 likewise for FDIVR/FDIV): the
    // reversed operation of the D8 row with the same ModRM.reg.
    const op = ext >= 4 ? ext ^ 1 : ext;
    const mn = pop ? `${arithNames[op]}P` : arithNames[op];
    add({ opcode: escape, ext, mod: 'reg', mnemonic: mn, exec: `fpuArithReg(${op}, $rm, true, ${pop}, ${fop(escape)});`, test: 'x87' });
  });
}

// ---- D9 ----
add({ opcode: 0xd9, ext: 0, mod: 'mem', mnemonic: 'FLD', operands: ['Md'], exec: `fpuLoadMem(${M32}, $seg, $1, ${fop(0xd9)});`, test: 'x87' });
add({ opcode: 0xd9, ext: 2, mod: 'mem', mnemonic: 'FST', operands: ['Md'], exec: `fpuStoreMem(${M32}, false, $seg, $1, ${fop(0xd9)});`, test: 'x87' });
add({ opcode: 0xd9, ext: 3, mod: 'mem', mnemonic: 'FSTP', operands: ['Md'], exec: `fpuStoreMem(${M32}, true, $seg, $1, ${fop(0xd9)});`, test: 'x87' });
add({ opcode: 0xd9, ext: 4, mod: 'mem', mnemonic: 'FLDENV', operands: ['M'], exec: 'fpuLoadEnv($seg, $1, $O);' });
add({ opcode: 0xd9, ext: 5, mod: 'mem', mnemonic: 'FLDCW', operands: ['Mw'], exec: 'fpuLoadControl($seg, $1);' });
add({ opcode: 0xd9, ext: 6, mod: 'mem', mnemonic: 'FNSTENV', operands: ['M'], exec: 'fpuStoreEnv($seg, $1, $O);' });
add({ opcode: 0xd9, ext: 7, mod: 'mem', mnemonic: 'FNSTCW', operands: ['Mw'], exec: 'fpuStoreControl($seg, $1);', test: 'x87' });
add({ opcode: 0xd9, ext: 0, mod: 'reg', mnemonic: 'FLD', exec: `fpuLoadReg($rm, ${fop(0xd9)});`, test: 'x87' });
add({ opcode: 0xd9, ext: 1, mod: 'reg', mnemonic: 'FXCH', exec: `fpuExchange($rm, ${fop(0xd9)});`, test: 'x87' });
add({ opcode: 0xd9, ext: 2, mod: 'reg', rm: 0, mnemonic: 'FNOP', exec: `fpuNop(${fop(0xd9)});`, test: 'x87' });
add({ opcode: 0xd9, ext: 3, mod: 'reg', mnemonic: 'FSTP1', exec: `fpuStoreReg($rm, true, ${fop(0xd9)});` });
const d9e0: [number, string, string][] = [[0, 'FCHS', 'fpuChs'], [1, 'FABS', 'fpuAbs'], [4, 'FTST', 'fpuTest'], [5, 'FXAM', 'fpuExamine']];
for (const [rm, mn, fn] of d9e0) add({ opcode: 0xd9, ext: 4, mod: 'reg', rm, mnemonic: mn, exec: `${fn}(${fop(0xd9)});`, test: 'x87' });
['FLD1', 'FLDL2T', 'FLDL2E', 'FLDPI', 'FLDLG2', 'FLDLN2', 'FLDZ'].forEach((mn, rm) => {
  add({ opcode: 0xd9, ext: 5, mod: 'reg', rm, mnemonic: mn, exec: `fpuConstant(${rm}, ${fop(0xd9)});`, test: 'x87' });
});
const d9f0: [number, string, string][] = [
  [0, 'F2XM1', `fpuF2xm1(${fop(0xd9)});`], [1, 'FYL2X', `fpuBinaryTranscendental(1, ${fop(0xd9)});`],
  [2, 'FPTAN', `fpuTrig(2, ${fop(0xd9)});`], [3, 'FPATAN', `fpuBinaryTranscendental(0, ${fop(0xd9)});`],
  [4, 'FXTRACT', `fpuExtract(${fop(0xd9)});`], [5, 'FPREM1', `fpuPartialRemainder(true, ${fop(0xd9)});`],
  [6, 'FDECSTP', `fpuDecStp(${fop(0xd9)});`], [7, 'FINCSTP', `fpuIncStp(${fop(0xd9)});`],
];
// Transcendentals are not given to the random tester: their last bits differ by design.
const exact = new Set(['FXTRACT', 'FPREM1', 'FDECSTP', 'FINCSTP', 'FPREM', 'FRNDINT', 'FSCALE', 'FSQRT']);
for (const [rm, mn, exec] of d9f0) add({ opcode: 0xd9, ext: 6, mod: 'reg', rm, mnemonic: mn, exec, test: exact.has(mn) ? 'x87' : undefined });
const d9f8: [number, string, string][] = [
  [0, 'FPREM', `fpuPartialRemainder(false, ${fop(0xd9)});`], [1, 'FYL2XP1', `fpuBinaryTranscendental(2, ${fop(0xd9)});`],
  [2, 'FSQRT', `fpuSqrt(${fop(0xd9)});`], [3, 'FSINCOS', `fpuTrig(3, ${fop(0xd9)});`],
  [4, 'FRNDINT', `fpuRoundInt(${fop(0xd9)});`], [5, 'FSCALE', `fpuScale(${fop(0xd9)});`],
  [6, 'FSIN', `fpuTrig(0, ${fop(0xd9)});`], [7, 'FCOS', `fpuTrig(1, ${fop(0xd9)});`],
];
for (const [rm, mn, exec] of d9f8) add({ opcode: 0xd9, ext: 7, mod: 'reg', rm, mnemonic: mn, exec, test: exact.has(mn) ? 'x87' : undefined });

// ---- DA register forms: FCMOVB/E/BE/U, FUCOMPP ----
// The condition is the Jcc encoding: B = 2, E = 4, BE = 6, P = 10; the DB forms negate (+1).
const cmov: [number, string, number][] = [[0, 'B', 2], [1, 'E', 4], [2, 'BE', 6], [3, 'U', 10]];
for (const [ext, cc, jcc] of cmov) {
  add({ opcode: 0xda, ext, mod: 'reg', mnemonic: `FCMOV${cc}`, exec: `fpuCmov(${jcc}, $rm, ${fop(0xda)});`, test: 'x87' });
  add({ opcode: 0xdb, ext, mod: 'reg', mnemonic: `FCMOVN${cc}`, exec: `fpuCmov(${jcc + 1}, $rm, ${fop(0xdb)});`, test: 'x87' });
}
add({ opcode: 0xda, ext: 5, mod: 'reg', rm: 1, mnemonic: 'FUCOMPP', exec: `fpuCompareReg(1, 2, true, ${fop(0xda)});`, test: 'x87' });

// ---- DB ----
add({ opcode: 0xdb, ext: 0, mod: 'mem', mnemonic: 'FILD', operands: ['Md'], exec: `fpuLoadMem(${I32}, $seg, $1, ${fop(0xdb)});`, test: 'x87' });
add({ opcode: 0xdb, ext: 2, mod: 'mem', mnemonic: 'FIST', operands: ['Md'], exec: `fpuStoreMem(${I32}, false, $seg, $1, ${fop(0xdb)});`, test: 'x87' });
add({ opcode: 0xdb, ext: 3, mod: 'mem', mnemonic: 'FISTP', operands: ['Md'], exec: `fpuStoreMem(${I32}, true, $seg, $1, ${fop(0xdb)});`, test: 'x87' });
add({ opcode: 0xdb, ext: 5, mod: 'mem', mnemonic: 'FLD', operands: ['M'], exec: `fpuLoadMem(${M80}, $seg, $1, ${fop(0xdb)});`, test: 'x87' });
add({ opcode: 0xdb, ext: 7, mod: 'mem', mnemonic: 'FSTP', operands: ['M'], exec: `fpuStoreMem(${M80}, true, $seg, $1, ${fop(0xdb)});`, test: 'x87' });
add({ opcode: 0xdb, ext: 4, mod: 'reg', rm: 0, mnemonic: 'FENI', exec: 'fpuLegacyNop();' });
add({ opcode: 0xdb, ext: 4, mod: 'reg', rm: 1, mnemonic: 'FDISI', exec: 'fpuLegacyNop();' });
add({ opcode: 0xdb, ext: 4, mod: 'reg', rm: 2, mnemonic: 'FNCLEX', exec: 'fpuClearExceptions();', test: 'x87' });
add({ opcode: 0xdb, ext: 4, mod: 'reg', rm: 3, mnemonic: 'FNINIT', exec: 'fpuInit();' });
add({ opcode: 0xdb, ext: 4, mod: 'reg', rm: 4, mnemonic: 'FSETPM', exec: 'fpuLegacyNop();' });
add({ opcode: 0xdb, ext: 5, mod: 'reg', mnemonic: 'FUCOMI', exec: `fpuComi($rm, true, false, ${fop(0xdb)});`, flags: 'OSZAPC', test: 'x87' });
add({ opcode: 0xdb, ext: 6, mod: 'reg', mnemonic: 'FCOMI', exec: `fpuComi($rm, false, false, ${fop(0xdb)});`, flags: 'OSZAPC', test: 'x87' });

// ---- DD ----
add({ opcode: 0xdd, ext: 0, mod: 'mem', mnemonic: 'FLD', operands: ['Mq'], exec: `fpuLoadMem(${M64}, $seg, $1, ${fop(0xdd)});`, test: 'x87' });
add({ opcode: 0xdd, ext: 2, mod: 'mem', mnemonic: 'FST', operands: ['Mq'], exec: `fpuStoreMem(${M64}, false, $seg, $1, ${fop(0xdd)});`, test: 'x87' });
add({ opcode: 0xdd, ext: 3, mod: 'mem', mnemonic: 'FSTP', operands: ['Mq'], exec: `fpuStoreMem(${M64}, true, $seg, $1, ${fop(0xdd)});`, test: 'x87' });
add({ opcode: 0xdd, ext: 4, mod: 'mem', mnemonic: 'FRSTOR', operands: ['M'], exec: 'fpuRestore($seg, $1, $O);' });
add({ opcode: 0xdd, ext: 6, mod: 'mem', mnemonic: 'FNSAVE', operands: ['M'], exec: 'fpuSave($seg, $1, $O);' });
add({ opcode: 0xdd, ext: 7, mod: 'mem', mnemonic: 'FNSTSW', operands: ['Mw'], exec: 'fpuStoreStatus($seg, $1);', test: 'x87' });
add({ opcode: 0xdd, ext: 0, mod: 'reg', mnemonic: 'FFREE', exec: `fpuFree($rm, false, ${fop(0xdd)});`, test: 'x87' });
add({ opcode: 0xdd, ext: 1, mod: 'reg', mnemonic: 'FXCH4', exec: `fpuExchange($rm, ${fop(0xdd)});` });
add({ opcode: 0xdd, ext: 2, mod: 'reg', mnemonic: 'FST', exec: `fpuStoreReg($rm, false, ${fop(0xdd)});`, test: 'x87' });
add({ opcode: 0xdd, ext: 3, mod: 'reg', mnemonic: 'FSTP', exec: `fpuStoreReg($rm, true, ${fop(0xdd)});`, test: 'x87' });
add({ opcode: 0xdd, ext: 4, mod: 'reg', mnemonic: 'FUCOM', exec: `fpuCompareReg($rm, 0, true, ${fop(0xdd)});`, test: 'x87' });
add({ opcode: 0xdd, ext: 5, mod: 'reg', mnemonic: 'FUCOMP', exec: `fpuCompareReg($rm, 1, true, ${fop(0xdd)});`, test: 'x87' });

// ---- DF ----
add({ opcode: 0xdf, ext: 0, mod: 'mem', mnemonic: 'FILD', operands: ['Mw'], exec: `fpuLoadMem(${I16}, $seg, $1, ${fop(0xdf)});`, test: 'x87' });
add({ opcode: 0xdf, ext: 2, mod: 'mem', mnemonic: 'FIST', operands: ['Mw'], exec: `fpuStoreMem(${I16}, false, $seg, $1, ${fop(0xdf)});`, test: 'x87' });
add({ opcode: 0xdf, ext: 3, mod: 'mem', mnemonic: 'FISTP', operands: ['Mw'], exec: `fpuStoreMem(${I16}, true, $seg, $1, ${fop(0xdf)});`, test: 'x87' });
add({ opcode: 0xdf, ext: 4, mod: 'mem', mnemonic: 'FBLD', operands: ['M'], exec: `fpuLoadMem(${BCD}, $seg, $1, ${fop(0xdf)});`, test: 'x87' });
add({ opcode: 0xdf, ext: 5, mod: 'mem', mnemonic: 'FILD', operands: ['Mq'], exec: `fpuLoadMem(${I64}, $seg, $1, ${fop(0xdf)});`, test: 'x87' });
add({ opcode: 0xdf, ext: 6, mod: 'mem', mnemonic: 'FBSTP', operands: ['M'], exec: `fpuStoreMem(${BCD}, true, $seg, $1, ${fop(0xdf)});`, test: 'x87' });
add({ opcode: 0xdf, ext: 7, mod: 'mem', mnemonic: 'FISTP', operands: ['Mq'], exec: `fpuStoreMem(${I64}, true, $seg, $1, ${fop(0xdf)});`, test: 'x87' });
add({ opcode: 0xdf, ext: 0, mod: 'reg', mnemonic: 'FFREEP', exec: `fpuFree($rm, true, ${fop(0xdf)});` });
add({ opcode: 0xdf, ext: 1, mod: 'reg', mnemonic: 'FXCH7', exec: `fpuExchange($rm, ${fop(0xdf)});` });
add({ opcode: 0xdf, ext: 2, mod: 'reg', mnemonic: 'FSTP8', exec: `fpuStoreReg($rm, true, ${fop(0xdf)});` });
add({ opcode: 0xdf, ext: 3, mod: 'reg', mnemonic: 'FSTP9', exec: `fpuStoreReg($rm, true, ${fop(0xdf)});` });
add({ opcode: 0xdf, ext: 4, mod: 'reg', rm: 0, mnemonic: 'FNSTSW', operands: ['AX'], exec: 'fpuStoreStatusAx();', test: 'x87' });
add({ opcode: 0xdf, ext: 5, mod: 'reg', mnemonic: 'FUCOMIP', exec: `fpuComi($rm, true, true, ${fop(0xdf)});`, flags: 'OSZAPC', test: 'x87' });
add({ opcode: 0xdf, ext: 6, mod: 'reg', mnemonic: 'FCOMIP', exec: `fpuComi($rm, false, true, ${fop(0xdf)});`, flags: 'OSZAPC', test: 'x87' });

// ---- FXSAVE / FXRSTOR (0F AE /0, /1) ----
add({ opcode: 0x1ae, ext: 0, mod: 'mem', mnemonic: 'FXSAVE', operands: ['M'], exec: 'fxsave($seg, $1);' });
add({ opcode: 0x1ae, ext: 1, mod: 'mem', mnemonic: 'FXRSTOR', operands: ['M'], exec: 'fxrstor($seg, $1);' });

export const x87Rows = rows;
