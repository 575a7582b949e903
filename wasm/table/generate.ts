// Generates wasm/generated/execute.ts, the interpreter's dispatch, from the opcode table.
// Each (opcode, operand size) becomes one case; ModRM register and memory forms are emitted as
// separate branches so register forms never pay for address decoding.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { opcodeTable, opcodeRange, type OpcodeRow } from './index.ts';
import { parseOperand, bits, type Operand } from './operands.ts';

const BUILTINS = new Set([
  'const', 'let', 'if', 'else', 'true', 'false', 'return', 'u8', 'i8', 'u16', 'i16', 'u32', 'i32', 'u64', 'i64',
  'f32', 'f64', 'bool', 'bswap', 'popcnt', 'clz', 'ctz', 'void', 'load', 'store', 'modrm', 'seg', 'ea', 'null',
]);

interface Variant {
  row: OpcodeRow;
  opcode: number;
}

function needsModrm(row: OpcodeRow): boolean {
  if (row.ext !== undefined) return true;
  return (row.operands ?? []).some((s) => 'EGMRSCD'.includes(parseOperand(s).kind));
}

function sizeName(b: number): string {
  return b === 8 ? '8' : b === 16 ? '16' : '32';
}

/** Operand size in bits used for $S: the widest non-immediate operand, else the operand size. */
function instructionSize(ops: Operand[], o32: boolean): number {
  let s = 0;
  for (const op of ops) {
    if ('IJAX'.includes(op.kind) || op.kind === 'one' || op.kind === 'M') continue;
    if (op.size === 64) continue;
    s = Math.max(s, bits(op, o32));
  }
  return s || (o32 ? 32 : 16);
}

function isWritten(exec: string, n: number): boolean {
  return new RegExp(`\\$${n}\\s*=(?!=)`).test(exec);
}
function isRead(exec: string, n: number): boolean {
  const stripped = exec.replace(new RegExp(`\\$${n}\\s*=(?!=)`, 'g'), '');
  return new RegExp(`\\$${n}(?![0-9s])`).test(stripped) || new RegExp(`\\$${n}s`).test(stripped);
}

/** Code for the body of one row in one form ('reg', 'mem' or 'none'). */
function body(row: OpcodeRow, opcode: number, o32: boolean, form: 'reg' | 'mem' | 'none'): string {
  const ops = (row.operands ?? []).map(parseOperand).filter((o) => o.kind !== 'X');
  const S = instructionSize(ops, o32);
  const lines: string[] = [];
  const exec = row.exec;
  if (form === 'mem') lines.push('let ea = decodeEa(modrm, eip + 1);', 'const seg = effSeg;');
  if (form === 'mem' && row.popDestination) lines.push(`if (eaUsesEspBase) ea = addrMask(ea + ${o32 ? 4 : 2});`);
  // Immediates follow the ModRM/SIB/displacement bytes, in operand order. Where their position
  // is known here (no displacement before them), they are fetched at it (see fetch8At).
  // `at`: their offset from `eip`, or -1 once it depends on the address size.
  let at = form === 'mem' ? -1 : form === 'reg' ? 1 : 0;
  const fetch = (bytes: 1 | 2 | 4): string => {
    const name = `fetch${bytes * 8}`;
    if (at < 0) return `${name}()`;
    const e = `${name}At(${at ? `eip + ${at}` : 'eip'})`;
    at += bytes;
    return e;
  };
  const imm: string[] = [];
  ops.forEach((op, i) => {
    const n = i + 1;
    if (op.kind === 'I') {
      let e: string;
      if (op.signExtended) e = o32 ? `<u32>(<i32>(<i8>${fetch(1)}))` : `<u32>(<i32>(<i8>${fetch(1)})) & 0xffff`;
      else if (op.size === 8) e = fetch(1);
      else if (op.size === 16) e = fetch(2);
      else if (op.size === 32) e = fetch(4);
      else e = o32 ? fetch(4) : fetch(2);
      imm.push(`const i${n}: u32 = ${e};`);
    } else if (op.kind === 'J') {
      const e = op.size === 8 ? `<u32>(<i32>(<i8>${fetch(1)}))` : o32 ? fetch(4) : `<u32>(<i32>(<i16>${fetch(2)}))`;
      imm.push(`const i${n}: u32 = ${e};`);
    } else if (op.kind === 'A') {
      imm.push(`const i${n}: u32 = ${o32 ? fetch(4) : fetch(2)};`, `const i${n}s: u32 = ${fetch(2)};`);
    } else if (op.kind === 'O') {
      const start = at;
      const offset32 = fetch(4);
      at = start;
      imm.push(`let ea: u32 = addrsize32 ? ${offset32} : ${fetch(2)};`, 'const seg = dataSeg();');
      at = -1;
    }
  });
  lines.push(...imm);
  const memIndex = ops.findIndex((o) => o.kind === 'O' || (form === 'mem' && o.kind === 'E'));
  // Register-operand expressions.
  const regIndex = (op: Operand): string => {
    switch (op.kind) {
      case 'E': case 'R': return '(modrm & 7)';
      case 'G': return '((modrm >> 3) & 7)';
      case 'Z': return String(opcode & 7);
      case 'reg': return String(op.fixed);
      default: throw new Error('not a register operand');
    }
  };
  const isRegOperand = (op: Operand) =>
    op.kind === 'G' || op.kind === 'Z' || op.kind === 'reg' || op.kind === 'R' || (op.kind === 'E' && form !== 'mem');
  const reads: string[] = [];
  const writes: string[] = [];
  const regWrites: string[] = [];
  ops.forEach((op, i) => {
    const n = i + 1;
    const w = isWritten(exec, n);
    const r = isRead(exec, n);
    const b = bits(op, o32);
    if (op.kind === 'I' || op.kind === 'J' || op.kind === 'A') {
      reads.push(`const o${n}: u32 = i${n};`);
      if (op.kind === 'A') reads.push(`const o${n}s: u32 = i${n}s;`);
      return;
    }
    if (op.kind === 'one') { reads.push(`const o${n}: u32 = 1;`); return; }
    if (op.kind === 'M') { reads.push(`const o${n}: u32 = ea;`); return; }
    if (op.kind === 'C' || op.kind === 'D') { reads.push(`const o${n}: u32 = (modrm >> 3) & 7;`); return; }
    if (op.kind === 'seg') { reads.push(`let o${n}: u32 = segSelector(${op.fixed});`); return; }
    if (op.kind === 'S') {
      reads.push(`let o${n}: u32 = ${r ? 'segmentOperand(modrm)' : '0'};`);
      if (w) throw new Error(`${row.mnemonic}: writing a segment operand is done by a handler`);
      return;
    }
    if (isRegOperand(op)) {
      const idx = regIndex(op);
      reads.push(`let o${n}: u32 = ${r ? `reg${sizeName(b)}(${idx})` : '0'};`);
      if (w) regWrites.push(`setReg${sizeName(b)}(${idx}, o${n});`);
      return;
    }
    // Memory operand.
    if (i !== memIndex) throw new Error(`${row.mnemonic}: two memory operands`);
    if (row.bitOffset && form === 'mem') {
      const g = ops.findIndex((o) => o.kind === 'G');
      reads.push(`ea = bitBaseAddress(ea, reg${sizeName(b)}(${regIndex(ops[g])}), ${b});`);
    }
    if (r && w) {
      reads.push(`const lin${n} = rmwLinear(seg, ea, ${b >> 3});`, `let o${n}: u32 = readLin${sizeName(b)}(lin${n});`);
      writes.push(`writeLin${sizeName(b)}(lin${n}, o${n});`);
    } else if (r) {
      reads.push(`let o${n}: u32 = readMem${sizeName(b)}(seg, ea);`);
    } else {
      reads.push(`let o${n}: u32 = 0;`);
      if (w) writes.push(`writeMem${sizeName(b)}(seg, ea, o${n});`);
    }
  });
  // Register operands must be read after memory ones are probed: reads keep operand order,
  // and every memory check happens before any state changes in the template.
  lines.push(...reads);
  let code = exec
    .replace(/\$([1-3])s/g, 'o$1s')
    .replace(/\$([1-3])/g, 'o$1')
    .replace(/\$S/g, String(S))
    .replace(/\$O/g, o32 ? 'true' : 'false')
    .replace(/\$cc/g, String(opcode & 15))
    .replace(/\$reg/g, '((modrm >> 3) & 7)')
    .replace(/\$rm/g, '(modrm & 7)')
    .replace(/\$rz/g, String(opcode & 7))
    .replace(/\$seg/g, 'seg')
    .replace(/\$ea/g, 'ea');
  if (form === 'reg' && ops.some((o) => o.kind === 'M')) return 'ud();';
  lines.push(code);
  // Register write-backs in reverse operand order: when two written operands are the same
  // register (XADD r,r), the destination ($1) is written last, as the hardware does.
  lines.push(...writes, ...regWrites.reverse());
  if (row.post) lines.push(row.post.replace(/\$O/g, o32 ? 'true' : 'false'));
  return lines.filter((l) => l.trim()).join('\n');
}

/** Body for one row including its ModRM form split. Assumes `modrm` is in scope when needed. */
function rowCode(row: OpcodeRow, opcode: number, o32: boolean): string {
  const ops = (row.operands ?? []).map(parseOperand);
  const hasRm = ops.some((o) => o.kind === 'E' || o.kind === 'M');
  const regOnly = ops.some((o) => o.kind === 'R');
  if (!hasRm || regOnly) return body(row, opcode, o32, needsModrm(row) ? 'reg' : 'none');
  if (row.mod === 'mem') return body(row, opcode, o32, 'mem');
  if (row.mod === 'reg') return body(row, opcode, o32, 'reg');
  return `if (modrm >= 0xc0) {\n${indent(body(row, opcode, o32, 'reg'))}\n} else {\n${indent(body(row, opcode, o32, 'mem'))}\n}`;
}

function indent(s: string, n = 2): string {
  const pad = ' '.repeat(n);
  return s.split('\n').map((l) => (l ? pad + l : l)).join('\n');
}

function terminator(rows: OpcodeRow[]): string {
  return rows.some((r) => r.stops) ? 'return true;' : 'return false;';
}

/** Code for all rows of one opcode byte that share a group (ModRM.reg selects the row). */
function groupCode(rows: Variant[], o32: boolean): string {
  const byExt = new Map<number, Variant[]>();
  for (const v of rows) {
    const e = v.row.ext!;
    if (!byExt.has(e)) byExt.set(e, []);
    byExt.get(e)!.push(v);
  }
  const cases: string[] = [];
  for (const [ext, vs] of [...byExt.entries()].sort((a, b) => a[0] - b[0])) {
    let code: string;
    if (vs.length === 1 && vs[0].row.mod === undefined) {
      code = rowCode(vs[0].row, vs[0].opcode, o32);
    } else {
      const mem = vs.filter((v) => v.row.mod !== 'reg');
      const reg = vs.filter((v) => v.row.mod !== 'mem');
      const regExact = reg.filter((v) => v.row.rm !== undefined);
      const regAny = reg.filter((v) => v.row.rm === undefined);
      let regCode = regAny.length ? body(regAny[0].row, regAny[0].opcode, o32, 'reg') : 'ud();';
      if (regExact.length) {
        const rmCases = regExact.map((v) => `case ${v.row.rm}: {\n${indent(body(v.row, v.opcode, o32, 'reg'))}\n  break;\n}`).join('\n');
        regCode = `switch (modrm & 7) {\n${indent(rmCases)}\n  default: {\n${indent(regCode, 4)}\n  }\n}`;
      }
      const memCode = mem.length ? body(mem[0].row, mem[0].opcode, o32, 'mem') : 'ud();';
      code = `if (modrm >= 0xc0) {\n${indent(regCode)}\n} else {\n${indent(memCode)}\n}`;
    }
    cases.push(`case ${ext}: {\n${indent(code)}\n  ${terminator(vs.map((v) => v.row))}\n}`);
  }
  return `const modrm = fetch8At(eip);\nswitch ((modrm >> 3) & 7) {\n${indent(cases.join('\n'))}\n  default: ud();\n}\nreturn false;`;
}

function generate(): string {
  // Expand ranges into per-opcode variants.
  const byOpcode = new Map<number, Variant[]>();
  for (const row of opcodeTable) {
    const [lo, hi] = opcodeRange(row);
    for (let op = lo; op <= hi; op++) {
      if (!byOpcode.has(op)) byOpcode.set(op, []);
      byOpcode.get(op)!.push({ row, opcode: op });
    }
  }
  const cases: string[] = [];
  const lockCases: string[] = [];
  for (const [opcode, variants] of [...byOpcode.entries()].sort((a, b) => a[0] - b[0])) {
    const grouped = variants.some((v) => v.row.ext !== undefined);
    if (grouped && variants.some((v) => v.row.ext === undefined)) throw new Error(`opcode ${opcode.toString(16)} mixes group and plain rows`);
    if (!grouped && variants.length > 1) throw new Error(`opcode ${opcode.toString(16)} has ${variants.length} rows`);
    const sizeDependent = variants.some((v) => (v.row.operands ?? []).some((s) => /v|z|bs|p|Ma|Ms/.test(s) || s === 'eAX') || /\$O|\$S/.test(v.row.exec));
    for (const o32 of sizeDependent ? [false, true] : [false]) {
      const key = sizeDependent ? opcode | (o32 ? 0x200 : 0) : opcode;
      let code: string;
      if (grouped) code = groupCode(variants, o32);
      else {
        const v = variants[0];
        const modrm = needsModrm(v.row) ? 'const modrm = fetch8At(eip);\n' : '';
        code = `${modrm}${rowCode(v.row, opcode, o32)}\n${terminator([v.row])}`;
      }
      const labels = sizeDependent ? `case 0x${key.toString(16)}:` : `case 0x${opcode.toString(16)}: case 0x${(opcode | 0x200).toString(16)}:`;
      cases.push(`${labels} { // ${variants.map((v) => v.row.mnemonic).filter((m, i, a) => a.indexOf(m) === i).join('/')}\n${indent(code)}\n}`);
    }
    // LOCK validity: memory forms of lockable rows only.
    const lockable = variants.filter((v) => v.row.lock);
    if (lockable.length) {
      const exts = lockable.map((v) => v.row.ext).filter((e) => e !== undefined);
      const extTest = grouped ? ` && (${exts.map((e) => `((modrm >> 3) & 7) == ${e}`).join(' || ')})` : '';
      lockCases.push(`case 0x${opcode.toString(16)}: return modrm < 0xc0${extTest};`);
    }
  }
  const allCode = cases.join('\n');
  const identifiers = new Set<string>();
  const declared = new Set<string>();
  for (const m of allCode.matchAll(/\b(?:const|let)\s+([A-Za-z_]\w*)/g)) declared.add(m[1]);
  const codeOnly = allCode.replace(/\/\/.*$/gm, '');
  for (const m of codeOnly.matchAll(/(?<![.\w$])([A-Za-z_]\w*)\b/g)) {
    const id = m[1];
    if (BUILTINS.has(id) || declared.has(id) || /^(o|i|lin)\d/.test(id) || id === 'eip' || id === 'case' || id === 'switch' || id === 'default' || id === 'break') continue;
    identifiers.add(id);
  }
  return [
    '// GENERATED by wasm/table/generate.ts from the opcode table (wasm/table). Do not edit.',
    `import { ${[...identifiers].sort().join(', ')} } from '../handlers';`,
    '',
    '/** Execute the instruction whose opcode key (0F map = 0x100 | byte, 32-bit operand size = 0x200) was just fetched. Returns true when the run loop must check for a stop. */',
    'export function execute(key: u32, eip: u32): bool {',
    '  switch (key) {',
    indent(allCode, 4),
    '    default: ud();',
    '  }',
    '  return false;',
    '}',
    '',
    '/** Whether a LOCK prefix is valid for this opcode (0F map = 0x100 | byte) with this ModRM byte. */',
    'export function lockAllowed(opcode: u32, modrm: u32): bool {',
    '  switch (opcode) {',
    indent(lockCases.join('\n'), 4),
    '    default: return false;',
    '  }',
    '}',
    '',
  ].join('\n');
}

export function writeGenerated(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, generate());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeGenerated(new URL('../generated/execute.ts', import.meta.url).pathname);
}
