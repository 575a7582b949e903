// Parsing of operand specifiers (Intel manual notation) shared by the generator, the
// disassembler and the instruction tester.

export type OperandKind =
  | 'E' | 'G' | 'M' | 'R' | 'I' | 'J' | 'O' | 'Z' | 'S' | 'C' | 'D' | 'A' | 'X' | 'reg' | 'seg' | 'one';

export interface Operand {
  kind: OperandKind;
  /** Size in bits, or 'v' for the operand size (16/32). 'q' = 64 for memory-only. */
  size: 8 | 16 | 32 | 64 | 'v';
  /** Immediate byte sign-extended to the operand size. */
  signExtended?: boolean;
  /** Fixed register number (kind 'reg') or segment number (kind 'seg'). */
  fixed?: number;
  spec: string;
}

const fixedRegs: Record<string, [number, 8 | 16 | 32 | 'v']> = {
  AL: [0, 8], CL: [1, 8], DL: [2, 8], BL: [3, 8], AH: [4, 8],
  AX: [0, 16], DX: [2, 16], eAX: [0, 'v'], eCX: [1, 'v'], eDX: [2, 'v'],
};
const segs: Record<string, number> = { ES: 0, CS: 1, SS: 2, DS: 3, FS: 4, GS: 5 };

export function parseOperand(spec: string): Operand {
  if (spec in fixedRegs) {
    const [n, size] = fixedRegs[spec];
    return { kind: 'reg', size, fixed: n, spec };
  }
  if (spec in segs) return { kind: 'seg', size: 16, fixed: segs[spec], spec };
  if (spec === '1') return { kind: 'one', size: 8, spec };
  const kind = spec[0] as OperandKind;
  const suffix = spec.slice(1);
  const size = suffixSize(suffix, spec);
  const op: Operand = { kind, size, spec };
  if (suffix === 'bs') {
    op.signExtended = true;
    op.size = 'v';
  }
  if (!'EGMRIJOZSCDAX'.includes(kind)) throw new Error(`unknown operand kind in ${spec}`);
  return op;
}

function suffixSize(suffix: string, spec: string): Operand['size'] {
  switch (suffix) {
    case 'b': case 'bs': return 8;
    case 'w': return 16;
    case 'd': return 32;
    case 'q': return 64;
    case 'v': case 'z': return 'v';
    case '': case 'p': case 's': case 'a': return 'v';
    default: throw new Error(`unknown operand size in ${spec}`);
  }
}

/** Resolve 'v' against the operand-size attribute. */
export function bits(op: Operand, opsize32: boolean): number {
  return op.size === 'v' ? (opsize32 ? 32 : 16) : op.size;
}
