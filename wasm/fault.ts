// Raising an exception aborts the current instruction: the vector and error code are recorded
// in the state block and the wasm code traps. The machine's run loop catches the trap and calls
// deliverPendingFault(), which restores EIP to the start of the faulting instruction and enters
// the handler. Instructions therefore do every check that can fault before they change any
// register, so a faulting instruction leaves the state as it found it.
import { STATE, S_FAULT_VECTOR, S_FAULT_CODE, EXC_GP, EXC_UD, EXC_SS, EXC_NP, EXC_TS } from './layout';

export const NO_ERROR_CODE: i32 = -1;

export function raise(vector: i32, code: i32): void {
  store<i32>(STATE + S_FAULT_VECTOR, vector);
  store<i32>(STATE + S_FAULT_CODE, code);
  unreachable();
}

export function gp(code: i32): void {
  raise(EXC_GP, code);
}
export function ud(): void {
  raise(EXC_UD, NO_ERROR_CODE);
}
export function ss(code: i32): void {
  raise(EXC_SS, code);
}
export function np(code: i32): void {
  raise(EXC_NP, code);
}
export function ts(code: i32): void {
  raise(EXC_TS, code);
}
