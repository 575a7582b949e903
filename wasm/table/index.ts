// The whole opcode table, merged from its parts.
import type { OpcodeRow } from './row.ts';
import { integerRows } from './integer.ts';
import { x87Rows } from './x87.ts';
import { mmxRows } from './mmx.ts';

export const opcodeTable: OpcodeRow[] = [...integerRows, ...x87Rows, ...mmxRows];
export type { OpcodeRow } from './row.ts';
export { opcodeRange } from './row.ts';
