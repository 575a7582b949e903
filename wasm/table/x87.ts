// x87 FPU rows of the opcode table (D8-DF escapes, FXSAVE/FXRSTOR).
import type { OpcodeRow } from './row.ts';

export const x87Rows: OpcodeRow[] = [];
