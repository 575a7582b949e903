// MMX rows of the opcode table (0F 60-7F, 0F D0-FF, EMMS).
import type { OpcodeRow } from './row.ts';

export const mmxRows: OpcodeRow[] = [];
