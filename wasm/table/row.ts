/**
 * One row of the opcode table: the single source of truth from which the interpreter's dispatch
 * (wasm/generated/execute.ts), the disassembler and the random instruction tester are derived.
 *
 * Operands use the Intel manual's notation: E (ModRM r/m), G (ModRM reg), M (memory-only r/m,
 * the value is the effective address), R (register-only r/m), I (immediate), J (relative
 * offset), O (moffs), Z (register in the opcode's low three bits), S (segment register in
 * ModRM reg), C/D (control/debug register number), A (far pointer), fixed registers (AL, CL,
 * DX, AX, eAX) and the constant 1. Size suffixes: b byte, w word, d dword, v/z operand size,
 * q qword (memory only), bs byte sign-extended to the operand size.
 *
 * `exec` is AssemblyScript: $1..$3 are the operand values and `$N = expr` writes an operand
 * (the generator emits the read and the write-back, with memory and register forms apart);
 * $S is the operand size in bits, $O the operand-size flag (true for 32-bit), $cc the low four
 * bits of the opcode, $reg/$rm the ModRM fields, $seg/$ea the memory operand's segment/offset.
 */
export interface OpcodeRow {
  /** Opcode or inclusive range: 0x00-0xFF one-byte map, 0x100-0x1FF the 0F two-byte map. */
  opcode: number | [number, number];
  /** ModRM.reg for group opcodes. */
  ext?: number;
  /** Restrict to the memory ('mem') or register ('reg') form of ModRM. */
  mod?: 'mem' | 'reg';
  /** With mod 'reg': the exact ModRM.rm value. */
  rm?: number;
  mnemonic: string;
  operands?: string[];
  exec: string;
  /** Flags the instruction writes with a defined value. */
  flags?: string;
  /** Flags the instruction leaves undefined (excluded from differential comparison). */
  undef?: string;
  /** Accepts a LOCK prefix (memory destination forms only). */
  lock?: boolean;
  /** Random tester class: which generator may produce it (absent: not generated). */
  test?: 'int' | 'string' | 'bcd' | 'x87' | 'mmx';
  /** The instruction can stop the run loop (HLT, I/O, mode changes) or retire more than one (REP): generator adds a check. */
  stops?: boolean;
  /** Code run after the operand write-back (commits that must follow a possibly faulting write). */
  post?: string;
  /** Bit-test form with a register bit offset: the memory operand is addressed by the offset. */
  bitOffset?: boolean;
  /**
   * POP r/m: a memory destination based on ESP is addressed with ESP already incremented
   * (Intel SDM, POP), as in Linux's `pushf; pop [esp]`.
   */
  popDestination?: boolean;
}

export function opcodeRange(row: OpcodeRow): [number, number] {
  return typeof row.opcode === 'number' ? [row.opcode, row.opcode] : row.opcode;
}
