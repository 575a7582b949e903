// The i686 integer instruction set: rows of the opcode table (see row.ts for the notation).
import type { OpcodeRow } from './row.ts';

const rows: OpcodeRow[] = [];
const add = (r: OpcodeRow) => rows.push(r);

// ---- ALU families: ADD OR ADC SBB AND SUB XOR CMP ----
const aluOps: [string, string, string][] = [
  ['ADD', 'add', ''], ['OR', 'or', 'A'], ['ADC', 'adc', ''], ['SBB', 'sbb', ''],
  ['AND', 'and', 'A'], ['SUB', 'sub', ''], ['XOR', 'xor', 'A'], ['CMP', 'cmp', ''],
];
aluOps.forEach(([mn, fn, undef], i) => {
  const base = i * 8;
  const isCmp = mn === 'CMP';
  const body = (a: string, b: string) => (isCmp ? `cmp(${a}, ${b}, $S);` : `${a} = ${fn}(${a}, ${b}, $S);`);
  const common = { mnemonic: mn, flags: 'OSZAPC', undef, test: 'int' as const };
  add({ ...common, opcode: base + 0, operands: ['Eb', 'Gb'], exec: body('$1', '$2'), lock: !isCmp });
  add({ ...common, opcode: base + 1, operands: ['Ev', 'Gv'], exec: body('$1', '$2'), lock: !isCmp });
  add({ ...common, opcode: base + 2, operands: ['Gb', 'Eb'], exec: body('$1', '$2') });
  add({ ...common, opcode: base + 3, operands: ['Gv', 'Ev'], exec: body('$1', '$2') });
  add({ ...common, opcode: base + 4, operands: ['AL', 'Ib'], exec: body('$1', '$2') });
  add({ ...common, opcode: base + 5, operands: ['eAX', 'Iz'], exec: body('$1', '$2') });
  add({ ...common, opcode: 0x80, ext: i, operands: ['Eb', 'Ib'], exec: body('$1', '$2'), lock: !isCmp });
  add({ ...common, opcode: 0x81, ext: i, operands: ['Ev', 'Iz'], exec: body('$1', '$2'), lock: !isCmp });
  add({ ...common, opcode: 0x82, ext: i, operands: ['Eb', 'Ib'], exec: body('$1', '$2'), lock: !isCmp });
  add({ ...common, opcode: 0x83, ext: i, operands: ['Ev', 'Ibs'], exec: body('$1', '$2'), lock: !isCmp });
});

// ---- Segment register push/pop ----
const segPush: [number, string, string][] = [[0x06, 'ES', 'ES'], [0x0e, 'CS', 'CS'], [0x16, 'SS', 'SS'], [0x1e, 'DS', 'DS'], [0x1a0, 'FS', 'FS'], [0x1a8, 'GS', 'GS']];
for (const [op, name, seg] of segPush) {
  add({ opcode: op, mnemonic: 'PUSH', operands: [name], exec: `pushSegment(${seg}, $O);` });
}
const segPop: [number, string][] = [[0x07, 'ES'], [0x17, 'SS'], [0x1f, 'DS'], [0x1a1, 'FS'], [0x1a9, 'GS']];
for (const [op, seg] of segPop) {
  add({ opcode: op, mnemonic: 'POP', operands: [seg], exec: `popSegment(${seg}, $O);` });
}

// ---- BCD and ASCII adjust ----
add({ opcode: 0x27, mnemonic: 'DAA', exec: 'daa();', flags: 'SZAPC', undef: 'O', test: 'bcd' });
add({ opcode: 0x2f, mnemonic: 'DAS', exec: 'das();', flags: 'SZAPC', undef: 'O', test: 'bcd' });
add({ opcode: 0x37, mnemonic: 'AAA', exec: 'aaa();', flags: 'AC', undef: 'OSZP', test: 'bcd' });
add({ opcode: 0x3f, mnemonic: 'AAS', exec: 'aas();', flags: 'AC', undef: 'OSZP', test: 'bcd' });
add({ opcode: 0xd4, mnemonic: 'AAM', operands: ['Ib'], exec: 'aam($1);', flags: 'SZP', undef: 'OAC', test: 'bcd' });
add({ opcode: 0xd5, mnemonic: 'AAD', operands: ['Ib'], exec: 'aad($1);', flags: 'SZP', undef: 'OAC', test: 'bcd' });

// ---- INC/DEC/PUSH/POP register ----
add({ opcode: [0x40, 0x47], mnemonic: 'INC', operands: ['Zv'], exec: '$1 = inc($1, $S);', flags: 'OSZAP', test: 'int' });
add({ opcode: [0x48, 0x4f], mnemonic: 'DEC', operands: ['Zv'], exec: '$1 = dec($1, $S);', flags: 'OSZAP', test: 'int' });
add({ opcode: [0x50, 0x57], mnemonic: 'PUSH', operands: ['Zv'], exec: 'pushRegister($rz, $O);' });
add({ opcode: [0x58, 0x5f], mnemonic: 'POP', operands: ['Zv'], exec: '$1 = pop($O);' });
add({ opcode: 0x60, mnemonic: 'PUSHA', exec: 'pusha($O);' });
add({ opcode: 0x61, mnemonic: 'POPA', exec: 'popa($O);' });
add({ opcode: 0x62, mnemonic: 'BOUND', operands: ['Gv', 'M'], exec: 'bound($1, $seg, $2, $O);' });
add({ opcode: 0x63, mnemonic: 'ARPL', operands: ['Ew', 'Gw'], exec: '$1 = arpl($1, $2);', flags: 'Z' });
add({ opcode: 0x68, mnemonic: 'PUSH', operands: ['Iz'], exec: 'push($1, $O);' });
add({ opcode: 0x6a, mnemonic: 'PUSH', operands: ['Ibs'], exec: 'push($1, $O);' });
add({ opcode: 0x69, mnemonic: 'IMUL', operands: ['Gv', 'Ev', 'Iz'], exec: '$1 = imul2($2, $3, $S);', flags: 'OC', undef: 'SZAP', test: 'int' });
add({ opcode: 0x6b, mnemonic: 'IMUL', operands: ['Gv', 'Ev', 'Ibs'], exec: '$1 = imul2($2, $3, $S);', flags: 'OC', undef: 'SZAP', test: 'int' });

// ---- Strings ----
const strings: [number, string, string, string][] = [
  [0x6c, 'INSB', 'STR_INS', 'b'], [0x6d, 'INS', 'STR_INS', 'v'], [0x6e, 'OUTSB', 'STR_OUTS', 'b'], [0x6f, 'OUTS', 'STR_OUTS', 'v'],
  [0xa4, 'MOVSB', 'STR_MOVS', 'b'], [0xa5, 'MOVS', 'STR_MOVS', 'v'], [0xa6, 'CMPSB', 'STR_CMPS', 'b'], [0xa7, 'CMPS', 'STR_CMPS', 'v'],
  [0xaa, 'STOSB', 'STR_STOS', 'b'], [0xab, 'STOS', 'STR_STOS', 'v'], [0xac, 'LODSB', 'STR_LODS', 'b'], [0xad, 'LODS', 'STR_LODS', 'v'],
  [0xae, 'SCASB', 'STR_SCAS', 'b'], [0xaf, 'SCAS', 'STR_SCAS', 'v'],
];
for (const [op, mn, kind, size] of strings) {
  const io = kind === 'STR_INS' || kind === 'STR_OUTS';
  const flags = kind === 'STR_CMPS' || kind === 'STR_SCAS' ? 'OSZAPC' : undefined;
  add({
    opcode: op, mnemonic: mn, exec: `stringOp(${kind}, ${size === 'b' ? 1 : '$O ? 4 : 2'});`, flags,
    // stops: the run loop counts a REP's extra iterations on its check path.
    operands: size === 'b' ? ['Xb'] : ['Xv'], test: io ? undefined : 'string', stops: true,
  });
}

// ---- Jumps ----
add({ opcode: [0x70, 0x7f], mnemonic: 'Jcc', operands: ['Jb'], exec: 'if (condition($cc)) jumpRelative($1, $O);' });
add({ opcode: [0x180, 0x18f], mnemonic: 'Jcc', operands: ['Jz'], exec: 'if (condition($cc)) jumpRelative($1, $O);' });
add({ opcode: 0xe0, mnemonic: 'LOOPNE', operands: ['Jb'], exec: 'if (decrementCount() && !getZF()) jumpRelative($1, $O);' });
add({ opcode: 0xe1, mnemonic: 'LOOPE', operands: ['Jb'], exec: 'if (decrementCount() && getZF()) jumpRelative($1, $O);' });
add({ opcode: 0xe2, mnemonic: 'LOOP', operands: ['Jb'], exec: 'if (decrementCount()) jumpRelative($1, $O);' });
add({ opcode: 0xe3, mnemonic: 'JCXZ', operands: ['Jb'], exec: 'if (countRegister() == 0) jumpRelative($1, $O);' });
add({ opcode: 0xe8, mnemonic: 'CALL', operands: ['Jz'], exec: 'callRelative($1, $O);' });
add({ opcode: 0xe9, mnemonic: 'JMP', operands: ['Jz'], exec: 'jumpRelative($1, $O);' });
add({ opcode: 0xeb, mnemonic: 'JMP', operands: ['Jb'], exec: 'jumpRelative($1, $O);' });
add({ opcode: 0x9a, mnemonic: 'CALLF', operands: ['Ap'], exec: 'callFar($1s, $1, $O);' });
add({ opcode: 0xea, mnemonic: 'JMPF', operands: ['Ap'], exec: 'jumpFar($1s, $1, $O);' });
add({ opcode: 0xc2, mnemonic: 'RET', operands: ['Iw'], exec: 'returnNear($1, $O);' });
add({ opcode: 0xc3, mnemonic: 'RET', exec: 'returnNear(0, $O);' });
add({ opcode: 0xca, mnemonic: 'RETF', operands: ['Iw'], exec: 'returnFar($O, $1);' });
add({ opcode: 0xcb, mnemonic: 'RETF', exec: 'returnFar($O, 0);' });
add({ opcode: 0xcc, mnemonic: 'INT3', exec: 'softwareInterrupt(3, KIND_INT_OTHER);' });
add({ opcode: 0xcd, mnemonic: 'INT', operands: ['Ib'], exec: 'softwareInterrupt($1, KIND_INT_N);' });
add({ opcode: 0xce, mnemonic: 'INTO', exec: 'if (getOF()) softwareInterrupt(4, KIND_INT_OTHER);' });
add({ opcode: 0xf1, mnemonic: 'INT1', exec: 'softwareInterrupt(1, KIND_EXCEPTION);' });
add({ opcode: 0xcf, mnemonic: 'IRET', exec: 'iret($O);', stops: true });

// ---- Groups 2 (shifts), 3, 4, 5 ----
const shifts: [number, string, string, string][] = [
  [0, 'ROL', 'rol', 'OC'], [1, 'ROR', 'ror', 'OC'], [2, 'RCL', 'rcl', 'OC'], [3, 'RCR', 'rcr', 'OC'],
  [4, 'SHL', 'shl', 'OSZAPC'], [5, 'SHR', 'shr', 'OSZAPC'], [6, 'SAL', 'shl', 'OSZAPC'], [7, 'SAR', 'sar', 'OSZAPC'],
];
for (const [ext, mn, fn, flags] of shifts) {
  // OF is defined only for 1-bit shifts; AF is undefined for shifts by a non-zero count.
  const undef = flags === 'OC' ? '' : 'A';
  const undefCount = flags === 'OC' ? 'O' : 'OA';
  add({ opcode: 0xc0, ext, mnemonic: mn, operands: ['Eb', 'Ib'], exec: `$1 = ${fn}($1, $2, $S);`, flags, undef: undefCount, test: 'int' });
  add({ opcode: 0xc1, ext, mnemonic: mn, operands: ['Ev', 'Ib'], exec: `$1 = ${fn}($1, $2, $S);`, flags, undef: undefCount, test: 'int' });
  add({ opcode: 0xd0, ext, mnemonic: mn, operands: ['Eb', '1'], exec: `$1 = ${fn}($1, 1, $S);`, flags, undef, test: 'int' });
  add({ opcode: 0xd1, ext, mnemonic: mn, operands: ['Ev', '1'], exec: `$1 = ${fn}($1, 1, $S);`, flags, undef, test: 'int' });
  add({ opcode: 0xd2, ext, mnemonic: mn, operands: ['Eb', 'CL'], exec: `$1 = ${fn}($1, $2, $S);`, flags, undef: undefCount, test: 'int' });
  add({ opcode: 0xd3, ext, mnemonic: mn, operands: ['Ev', 'CL'], exec: `$1 = ${fn}($1, $2, $S);`, flags, undef: undefCount, test: 'int' });
}
for (const [op, sz, isz] of [[0xf6, 'Eb', 'Ib'], [0xf7, 'Ev', 'Iz']] as const) {
  add({ opcode: op, ext: 0, mnemonic: 'TEST', operands: [sz, isz], exec: 'test($1, $2, $S);', flags: 'OSZPC', undef: 'A', test: 'int' });
  add({ opcode: op, ext: 1, mnemonic: 'TEST', operands: [sz, isz], exec: 'test($1, $2, $S);', flags: 'OSZPC', undef: 'A', test: 'int' });
  add({ opcode: op, ext: 2, mnemonic: 'NOT', operands: [sz], exec: '$1 = ~$1 & maskOf($S);', lock: true, test: 'int' });
  add({ opcode: op, ext: 3, mnemonic: 'NEG', operands: [sz], exec: '$1 = neg($1, $S);', flags: 'OSZAPC', lock: true, test: 'int' });
  add({ opcode: op, ext: 4, mnemonic: 'MUL', operands: [sz], exec: 'mul($1, $S);', flags: 'OC', undef: 'SZAP', test: 'int' });
  add({ opcode: op, ext: 5, mnemonic: 'IMUL', operands: [sz], exec: 'imul1($1, $S);', flags: 'OC', undef: 'SZAP', test: 'int' });
  add({ opcode: op, ext: 6, mnemonic: 'DIV', operands: [sz], exec: 'div($1, $S);', undef: 'OSZAPC', test: 'int' });
  add({ opcode: op, ext: 7, mnemonic: 'IDIV', operands: [sz], exec: 'idiv($1, $S);', undef: 'OSZAPC', test: 'int' });
}
add({ opcode: 0xfe, ext: 0, mnemonic: 'INC', operands: ['Eb'], exec: '$1 = inc($1, $S);', flags: 'OSZAP', lock: true, test: 'int' });
add({ opcode: 0xfe, ext: 1, mnemonic: 'DEC', operands: ['Eb'], exec: '$1 = dec($1, $S);', flags: 'OSZAP', lock: true, test: 'int' });
add({ opcode: 0xff, ext: 0, mnemonic: 'INC', operands: ['Ev'], exec: '$1 = inc($1, $S);', flags: 'OSZAP', lock: true, test: 'int' });
add({ opcode: 0xff, ext: 1, mnemonic: 'DEC', operands: ['Ev'], exec: '$1 = dec($1, $S);', flags: 'OSZAP', lock: true, test: 'int' });
add({ opcode: 0xff, ext: 2, mnemonic: 'CALL', operands: ['Ev'], exec: 'callAbsolute($1, $O);' });
add({ opcode: 0xff, ext: 3, mnemonic: 'CALLF', operands: ['Mp'], exec: 'callFar(readFarSelector($seg, $1, $O), readFarOffset($seg, $1, $O), $O);' });
add({ opcode: 0xff, ext: 4, mnemonic: 'JMP', operands: ['Ev'], exec: 'jumpAbsolute($1, $O);' });
add({ opcode: 0xff, ext: 5, mnemonic: 'JMPF', operands: ['Mp'], exec: 'jumpFar(readFarSelector($seg, $1, $O), readFarOffset($seg, $1, $O), $O);' });
add({ opcode: 0xff, ext: 6, mnemonic: 'PUSH', operands: ['Ev'], exec: 'push($1, $O);' });
add({ opcode: 0x8f, ext: 0, mnemonic: 'POP', operands: ['Ev'], exec: '$1 = popForWrite($O);', post: 'popCommit($O);', popDestination: true });

// ---- Moves and exchanges ----
add({ opcode: 0x84, mnemonic: 'TEST', operands: ['Eb', 'Gb'], exec: 'test($1, $2, $S);', flags: 'OSZPC', undef: 'A', test: 'int' });
add({ opcode: 0x85, mnemonic: 'TEST', operands: ['Ev', 'Gv'], exec: 'test($1, $2, $S);', flags: 'OSZPC', undef: 'A', test: 'int' });
add({ opcode: 0xa8, mnemonic: 'TEST', operands: ['AL', 'Ib'], exec: 'test($1, $2, $S);', flags: 'OSZPC', undef: 'A', test: 'int' });
add({ opcode: 0xa9, mnemonic: 'TEST', operands: ['eAX', 'Iz'], exec: 'test($1, $2, $S);', flags: 'OSZPC', undef: 'A', test: 'int' });
add({ opcode: 0x86, mnemonic: 'XCHG', operands: ['Eb', 'Gb'], exec: 'const t = $1; $1 = $2; $2 = t;', lock: true, test: 'int' });
add({ opcode: 0x87, mnemonic: 'XCHG', operands: ['Ev', 'Gv'], exec: 'const t = $1; $1 = $2; $2 = t;', lock: true, test: 'int' });
add({ opcode: [0x91, 0x97], mnemonic: 'XCHG', operands: ['Zv', 'eAX'], exec: 'const t = $1; $1 = $2; $2 = t;', test: 'int' });
// F3 90 is PAUSE: with several vCPUs it may end the run loop (see wasm/vcpu.ts).
add({ opcode: 0x90, mnemonic: 'NOP', exec: 'pause();', stops: true });
add({ opcode: 0x88, mnemonic: 'MOV', operands: ['Eb', 'Gb'], exec: '$1 = $2;', test: 'int' });
add({ opcode: 0x89, mnemonic: 'MOV', operands: ['Ev', 'Gv'], exec: '$1 = $2;', test: 'int' });
add({ opcode: 0x8a, mnemonic: 'MOV', operands: ['Gb', 'Eb'], exec: '$1 = $2;', test: 'int' });
add({ opcode: 0x8b, mnemonic: 'MOV', operands: ['Gv', 'Ev'], exec: '$1 = $2;', test: 'int' });
add({ opcode: 0x8c, mnemonic: 'MOV', operands: ['Ev', 'Sw'], exec: '$1 = $2;' });
add({ opcode: 0x8e, mnemonic: 'MOV', operands: ['Sw', 'Ew'], exec: 'moveToSegment($reg, $2);' });
add({ opcode: 0x8d, mnemonic: 'LEA', operands: ['Gv', 'M'], exec: '$1 = $2;', test: 'int' });
add({ opcode: 0xa0, mnemonic: 'MOV', operands: ['AL', 'Ob'], exec: '$1 = $2;', test: 'int' });
add({ opcode: 0xa1, mnemonic: 'MOV', operands: ['eAX', 'Ov'], exec: '$1 = $2;', test: 'int' });
add({ opcode: 0xa2, mnemonic: 'MOV', operands: ['Ob', 'AL'], exec: '$1 = $2;', test: 'int' });
add({ opcode: 0xa3, mnemonic: 'MOV', operands: ['Ov', 'eAX'], exec: '$1 = $2;', test: 'int' });
add({ opcode: [0xb0, 0xb7], mnemonic: 'MOV', operands: ['Zb', 'Ib'], exec: '$1 = $2;', test: 'int' });
add({ opcode: [0xb8, 0xbf], mnemonic: 'MOV', operands: ['Zv', 'Iv'], exec: '$1 = $2;', test: 'int' });
add({ opcode: 0xc6, ext: 0, mnemonic: 'MOV', operands: ['Eb', 'Ib'], exec: '$1 = $2;', test: 'int' });
add({ opcode: 0xc7, ext: 0, mnemonic: 'MOV', operands: ['Ev', 'Iz'], exec: '$1 = $2;', test: 'int' });
add({ opcode: 0xc4, mnemonic: 'LES', operands: ['Gv', 'Mp'], exec: 'loadFarPointer(ES, $reg, $seg, $2, $O);' });
add({ opcode: 0xc5, mnemonic: 'LDS', operands: ['Gv', 'Mp'], exec: 'loadFarPointer(DS, $reg, $seg, $2, $O);' });
add({ opcode: 0x1b2, mnemonic: 'LSS', operands: ['Gv', 'Mp'], exec: 'loadFarPointer(SS, $reg, $seg, $2, $O);' });
add({ opcode: 0x1b4, mnemonic: 'LFS', operands: ['Gv', 'Mp'], exec: 'loadFarPointer(FS, $reg, $seg, $2, $O);' });
add({ opcode: 0x1b5, mnemonic: 'LGS', operands: ['Gv', 'Mp'], exec: 'loadFarPointer(GS, $reg, $seg, $2, $O);' });
add({ opcode: 0x1b6, mnemonic: 'MOVZX', operands: ['Gv', 'Eb'], exec: '$1 = $2;', test: 'int' });
add({ opcode: 0x1b7, mnemonic: 'MOVZX', operands: ['Gv', 'Ew'], exec: '$1 = $2;', test: 'int' });
add({ opcode: 0x1be, mnemonic: 'MOVSX', operands: ['Gv', 'Eb'], exec: '$1 = <u32>signExtend($2, 8) & maskOf($S);', test: 'int' });
add({ opcode: 0x1bf, mnemonic: 'MOVSX', operands: ['Gv', 'Ew'], exec: '$1 = <u32>signExtend($2, 16) & maskOf($S);', test: 'int' });
add({ opcode: 0xd7, mnemonic: 'XLAT', exec: 'xlat();', test: 'int' });

// ---- Flags and conversions ----
add({ opcode: 0x98, mnemonic: 'CBW', exec: 'convertAccumulator($O);', test: 'int' });
add({ opcode: 0x99, mnemonic: 'CWD', exec: 'convertToDouble($O);', test: 'int' });
add({ opcode: 0x9c, mnemonic: 'PUSHF', exec: 'pushFlags($O);' });
add({ opcode: 0x9d, mnemonic: 'POPF', exec: 'popFlags($O);', stops: true });
add({ opcode: 0x9e, mnemonic: 'SAHF', exec: 'setArithFlags(SF | ZF | AF | PF | CF, reg8(4));', flags: 'SZAPC', test: 'int' });
add({ opcode: 0x9f, mnemonic: 'LAHF', exec: 'setReg8(4, getEflags() & 0xff);', test: 'int' });
add({ opcode: 0xf5, mnemonic: 'CMC', exec: 'setCF(getCF() == 0);', flags: 'C', test: 'int' });
add({ opcode: 0xf8, mnemonic: 'CLC', exec: 'setCF(false);', flags: 'C', test: 'int' });
add({ opcode: 0xf9, mnemonic: 'STC', exec: 'setCF(true);', flags: 'C', test: 'int' });
add({ opcode: 0xfc, mnemonic: 'CLD', exec: 'setDirection(false);', test: 'int' });
add({ opcode: 0xfd, mnemonic: 'STD', exec: 'setDirection(true);', test: 'int' });
add({ opcode: 0xfa, mnemonic: 'CLI', exec: 'cli();' });
add({ opcode: 0xfb, mnemonic: 'STI', exec: 'if (sti()) beginInterruptShadow();', stops: true });
add({ opcode: 0xd6, mnemonic: 'SALC', exec: 'salc();', test: 'int' });
add({ opcode: 0xc8, mnemonic: 'ENTER', operands: ['Iw', 'Ib'], exec: 'enter($1, $2, $O);' });
add({ opcode: 0xc9, mnemonic: 'LEAVE', exec: 'leave($O);' });
add({ opcode: 0xf4, mnemonic: 'HLT', exec: 'halt();', stops: true });
add({ opcode: 0x9b, mnemonic: 'FWAIT', exec: 'fpuWait();' });

// ---- Port I/O ----
add({ opcode: 0xe4, mnemonic: 'IN', operands: ['AL', 'Ib'], exec: '$1 = ioIn($2, 1);', stops: true });
add({ opcode: 0xe5, mnemonic: 'IN', operands: ['eAX', 'Ib'], exec: '$1 = ioIn($2, $S >> 3);', stops: true });
add({ opcode: 0xe6, mnemonic: 'OUT', operands: ['Ib', 'AL'], exec: 'ioOut($1, 1, $2);', stops: true });
add({ opcode: 0xe7, mnemonic: 'OUT', operands: ['Ib', 'eAX'], exec: 'ioOut($1, $S >> 3, $2);', stops: true });
add({ opcode: 0xec, mnemonic: 'IN', operands: ['AL', 'DX'], exec: '$1 = ioIn($2, 1);', stops: true });
add({ opcode: 0xed, mnemonic: 'IN', operands: ['eAX', 'DX'], exec: '$1 = ioIn($2, $S >> 3);', stops: true });
add({ opcode: 0xee, mnemonic: 'OUT', operands: ['DX', 'AL'], exec: 'ioOut($1, 1, $2);', stops: true });
add({ opcode: 0xef, mnemonic: 'OUT', operands: ['DX', 'eAX'], exec: 'ioOut($1, $S >> 3, $2);', stops: true });

// ---- Two-byte map: integer ----
add({ opcode: [0x140, 0x14f], mnemonic: 'CMOVcc', operands: ['Gv', 'Ev'], exec: '$1 = condition($cc) ? $2 : $1;', test: 'int' });
add({ opcode: [0x190, 0x19f], mnemonic: 'SETcc', operands: ['Eb'], exec: '$1 = condition($cc) ? 1 : 0;', test: 'int' });
const bitOps: [number, number, string, number][] = [[0x1a3, 4, 'BT', 0], [0x1ab, 5, 'BTS', 1], [0x1b3, 6, 'BTR', 2], [0x1bb, 7, 'BTC', 3]];
for (const [op, ext, mn, kind] of bitOps) {
  const exec = kind === 0 ? 'bitOp($1, $2, 0, $S);' : `$1 = bitOp($1, $2, ${kind}, $S);`;
  add({ opcode: op, mnemonic: mn, operands: ['Ev', 'Gv'], exec, flags: 'C', undef: 'OSAP', lock: kind !== 0, test: 'int', bitOffset: true });
  add({ opcode: 0x1ba, ext, mnemonic: mn, operands: ['Ev', 'Ib'], exec, flags: 'C', undef: 'OSAP', lock: kind !== 0, test: 'int' });
}
add({ opcode: 0x1a4, mnemonic: 'SHLD', operands: ['Ev', 'Gv', 'Ib'], exec: '$1 = shld($1, $2, $3, $S);', flags: 'SZPC', undef: 'OA', test: 'int' });
add({ opcode: 0x1a5, mnemonic: 'SHLD', operands: ['Ev', 'Gv', 'CL'], exec: '$1 = shld($1, $2, $3, $S);', flags: 'SZPC', undef: 'OA', test: 'int' });
add({ opcode: 0x1ac, mnemonic: 'SHRD', operands: ['Ev', 'Gv', 'Ib'], exec: '$1 = shrd($1, $2, $3, $S);', flags: 'SZPC', undef: 'OA', test: 'int' });
add({ opcode: 0x1ad, mnemonic: 'SHRD', operands: ['Ev', 'Gv', 'CL'], exec: '$1 = shrd($1, $2, $3, $S);', flags: 'SZPC', undef: 'OA', test: 'int' });
add({ opcode: 0x1af, mnemonic: 'IMUL', operands: ['Gv', 'Ev'], exec: '$1 = imul2($1, $2, $S);', flags: 'OC', undef: 'SZAP', test: 'int' });
add({ opcode: 0x1b0, mnemonic: 'CMPXCHG', operands: ['Eb', 'Gb'], exec: '$1 = cmpxchg($1, $2, $S);', flags: 'OSZAPC', lock: true, test: 'int' });
add({ opcode: 0x1b1, mnemonic: 'CMPXCHG', operands: ['Ev', 'Gv'], exec: '$1 = cmpxchg($1, $2, $S);', flags: 'OSZAPC', lock: true, test: 'int' });
add({ opcode: 0x1c0, mnemonic: 'XADD', operands: ['Eb', 'Gb'], exec: 'const t = add($1, $2, $S); $2 = $1; $1 = t;', flags: 'OSZAPC', lock: true, test: 'int' });
add({ opcode: 0x1c1, mnemonic: 'XADD', operands: ['Ev', 'Gv'], exec: 'const t = add($1, $2, $S); $2 = $1; $1 = t;', flags: 'OSZAPC', lock: true, test: 'int' });
add({ opcode: 0x1c7, ext: 1, mnemonic: 'CMPXCHG8B', operands: ['Mq'], exec: 'cmpxchg8b($seg, $1);', flags: 'Z', lock: true, test: 'int' });
add({ opcode: 0x1bc, mnemonic: 'BSF', operands: ['Gv', 'Ev'], exec: '$1 = bsf($1, $2, $S);', flags: 'Z', undef: 'OSAPC', test: 'int' });
add({ opcode: 0x1bd, mnemonic: 'BSR', operands: ['Gv', 'Ev'], exec: '$1 = bsr($1, $2, $S);', flags: 'Z', undef: 'OSAPC', test: 'int' });
add({ opcode: [0x1c8, 0x1cf], mnemonic: 'BSWAP', operands: ['Zd'], exec: '$1 = bswap<u32>($1);', test: 'int' });
add({ opcode: 0x1a2, mnemonic: 'CPUID', exec: 'cpuid();' });
add({ opcode: [0x118, 0x11f], mnemonic: 'NOP', operands: ['Ev'], exec: '' });

// ---- Two-byte map: system ----
// The memory forms store 16 bits; the register forms write the selector zero-extended to the
// operand size (P6 family and later).
add({ opcode: 0x100, ext: 0, mod: 'mem', mnemonic: 'SLDT', operands: ['Ew'], exec: '$1 = sldt();' });
add({ opcode: 0x100, ext: 0, mod: 'reg', mnemonic: 'SLDT', operands: ['Rv'], exec: '$1 = sldt();' });
add({ opcode: 0x100, ext: 1, mod: 'mem', mnemonic: 'STR', operands: ['Ew'], exec: '$1 = str();' });
add({ opcode: 0x100, ext: 1, mod: 'reg', mnemonic: 'STR', operands: ['Rv'], exec: '$1 = str();' });
add({ opcode: 0x100, ext: 2, mnemonic: 'LLDT', operands: ['Ew'], exec: 'lldt($1);' });
add({ opcode: 0x100, ext: 3, mnemonic: 'LTR', operands: ['Ew'], exec: 'ltr($1);' });
add({ opcode: 0x100, ext: 4, mnemonic: 'VERR', operands: ['Ew'], exec: 'verr($1);', flags: 'Z' });
add({ opcode: 0x100, ext: 5, mnemonic: 'VERW', operands: ['Ew'], exec: 'verw($1);', flags: 'Z' });
add({ opcode: 0x101, ext: 0, mod: 'mem', mnemonic: 'SGDT', operands: ['M'], exec: 'storeTableRegister($seg, $1, S_GDTR_BASE);' });
add({ opcode: 0x101, ext: 1, mod: 'mem', mnemonic: 'SIDT', operands: ['M'], exec: 'storeTableRegister($seg, $1, S_IDTR_BASE);' });
add({ opcode: 0x101, ext: 2, mod: 'mem', mnemonic: 'LGDT', operands: ['M'], exec: 'lgdt(readMem16($seg, $1), readMem32($seg, $1 + 2), $O);' });
add({ opcode: 0x101, ext: 3, mod: 'mem', mnemonic: 'LIDT', operands: ['M'], exec: 'lidt(readMem16($seg, $1), readMem32($seg, $1 + 2), $O);' });
add({ opcode: 0x101, ext: 4, mnemonic: 'SMSW', operands: ['Ew'], exec: '$1 = smsw() & 0xffff;' });
add({ opcode: 0x101, ext: 6, mnemonic: 'LMSW', operands: ['Ew'], exec: 'lmsw($1);', stops: true });
add({ opcode: 0x101, ext: 7, mod: 'mem', mnemonic: 'INVLPG', operands: ['M'], exec: 'invlpg(linearAddress($seg, $1));' });
add({ opcode: 0x102, mnemonic: 'LAR', operands: ['Gv', 'Ew'], exec: '$1 = lar($2, $1) & maskOf($S);', flags: 'Z' });
add({ opcode: 0x103, mnemonic: 'LSL', operands: ['Gv', 'Ew'], exec: '$1 = lsl($2, $1) & maskOf($S);', flags: 'Z' });
add({ opcode: 0x106, mnemonic: 'CLTS', exec: 'clts();' });
add({ opcode: 0x108, mnemonic: 'INVD', exec: 'privilegedNop();' });
add({ opcode: 0x109, mnemonic: 'WBINVD', exec: 'privilegedNop();' });
add({ opcode: 0x10b, mnemonic: 'UD2', exec: 'ud();' });
add({ opcode: 0x1b9, mnemonic: 'UD1', operands: ['Gv', 'Ev'], exec: 'ud();' });
add({ opcode: 0x1ff, mnemonic: 'UD0', exec: 'ud();' });
add({ opcode: 0x120, mnemonic: 'MOV', operands: ['Rd', 'Cd'], exec: '$1 = readCr($2);' });
add({ opcode: 0x121, mnemonic: 'MOV', operands: ['Rd', 'Dd'], exec: '$1 = readDr($2);' });
add({ opcode: 0x122, mnemonic: 'MOV', operands: ['Cd', 'Rd'], exec: 'writeCr($1, $2);', stops: true });
add({ opcode: 0x123, mnemonic: 'MOV', operands: ['Dd', 'Rd'], exec: 'writeDr($1, $2);' });
add({ opcode: 0x130, mnemonic: 'WRMSR', exec: 'wrmsr();' });
add({ opcode: 0x131, mnemonic: 'RDTSC', exec: 'rdtsc();' });
add({ opcode: 0x132, mnemonic: 'RDMSR', exec: 'rdmsr();' });
add({ opcode: 0x133, mnemonic: 'RDPMC', exec: 'rdpmc();' });
add({ opcode: 0x134, mnemonic: 'SYSENTER', exec: 'sysenter();', stops: true });
add({ opcode: 0x135, mnemonic: 'SYSEXIT', exec: 'sysexit();', stops: true });

export const integerRows = rows;
