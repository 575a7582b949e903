// Register file access at fixed offsets of the state block. Byte registers AL..BH map to the
// low and second byte of EAX..EBX as on the hardware.
import { STATE, S_REGS, S_EIP, S_SEGS, SEG_SIZE, SEG_SELECTOR, SEG_BASE, S_CR0, S_CR4, S_CPL } from './layout';

export const EAX: i32 = 0;
export const ECX: i32 = 1;
export const EDX: i32 = 2;
export const EBX: i32 = 3;
export const ESP: i32 = 4;
export const EBP: i32 = 5;
export const ESI: i32 = 6;
export const EDI: i32 = 7;

@inline export function reg32(r: i32): u32 {
  return load<u32>(STATE + S_REGS + (<u32>r << 3));
}
@inline export function setReg32(r: i32, v: u32): void {
  store<u32>(STATE + S_REGS + (<u32>r << 3), v);
}
@inline export function reg16(r: i32): u32 {
  return <u32>load<u16>(STATE + S_REGS + (<u32>r << 3));
}
@inline export function setReg16(r: i32, v: u32): void {
  store<u16>(STATE + S_REGS + (<u32>r << 3), <u16>v);
}
@inline export function reg8(r: i32): u32 {
  return <u32>load<u8>(STATE + S_REGS + ((<u32>r & 3) << 3) + (<u32>r >> 2));
}
@inline export function setReg8(r: i32, v: u32): void {
  store<u8>(STATE + S_REGS + ((<u32>r & 3) << 3) + (<u32>r >> 2), <u8>v);
}
@inline export function getEip(): u32 {
  return load<u32>(STATE + S_EIP);
}
@inline export function setEip(v: u32): void {
  store<u32>(STATE + S_EIP, v);
}
@inline export function segSelector(seg: i32): u32 {
  return load<u32>(STATE + S_SEGS + <u32>seg * SEG_SIZE + SEG_SELECTOR);
}
@inline export function segBase(seg: i32): u32 {
  return load<u32>(STATE + S_SEGS + <u32>seg * SEG_SIZE + SEG_BASE);
}
@inline export function cr0(): u32 {
  return load<u32>(STATE + S_CR0);
}
@inline export function cr4(): u32 {
  return load<u32>(STATE + S_CR4);
}
@inline export function cpl(): u32 {
  return load<u32>(STATE + S_CPL);
}
