// x87 precision control, directed rounding and unmasked store exceptions: cases the widened
// differential run (test/cpu/differential/) found differing, each run natively and in the bare
// machine and compared byte for byte (fpu-native.ts).
import { describe, expect, it } from 'vitest';
import { runNative, runEmulated, compareRecords } from './fpu-native.ts';

function differential(body: string, recordBytes: number, count: number): Uint8Array {
  const native = runNative(body);
  const emulated = runEmulated(body);
  expect(compareRecords(native, emulated, recordBytes, count)).toEqual([]);
  return native;
}

// Every rounding mode (EBX) under precision control "single" (CW 0x007F | RC << 10): one record
// of 64 bytes per mode at EDI + 64 * mode.
const singlePrecision = `
  xor ebx, ebx
.mode:
  mov eax, ebx
  shl eax, 10
  or eax, 0x007f
  mov [edi + 0x800], eax
  fldcw [edi + 0x800]
  mov ebp, ebx
  shl ebp, 6
  add ebp, edi
  call one_mode
  inc ebx
  cmp ebx, 4
  jb .mode
  ret
%macro SW 1
  fnstsw ax
  mov [ebp + %1], ax
  fnclex
%endmacro
one_mode:
  ; 1 + 2^-24 + 2^-60: the nearest double is the single-precision midpoint 1 + 2^-24, but the
  ; exact sum lies above it (rounding through a double first would round to even, down to 1).
  fld qword [c_mid]
  fadd qword [c_2m60]
  fstp qword [ebp + 0]
  SW 0x30
  ; (1 + 2^-30) * 2^200: far above the single-precision range, yet no overflow: precision
  ; control narrows the significand only, the exponent keeps the register's range.
  fld qword [c_wide]
  fmul qword [c_2p200]
  fstp qword [ebp + 8]
  SW 0x32
  ; (1 + 2^-30) * 2^-200: likewise no underflow.
  fld qword [c_wide]
  fmul qword [c_2m200]
  fstp qword [ebp + 16]
  SW 0x34
  ; 1/3 and sqrt(2) at 24 bits.
  fld1
  fdiv qword [c_three]
  fstp qword [ebp + 24]
  fld qword [c_two]
  fsqrt
  fstp qword [ebp + 32]
  SW 0x36
  ; FSCALE is not subject to precision control: a 53-bit significand survives.
  fld1
  fld qword [c_full]
  fscale
  fstp qword [ebp + 40]
  fstp st0
  SW 0x38
  ret
align 8
c_mid: dq 0x3ff0000010000000 ; 1 + 2^-24
c_2m60: dq 0x3c30000000000000 ; 2^-60
c_wide: dq 0x3ff0000004000000 ; 1 + 2^-30
c_2p200: dq 0x4c70000000000000 ; 2^200
c_2m200: dq 0x3370000000000000 ; 2^-200
c_three: dq 3.0
c_two: dq 2.0
c_full: dq 0x3ff5555555555555 ; a 53-bit significand
`;

// Stores of tiny and huge values with underflow or overflow unmasked: nothing is stored, UE/OE
// is set even for an exact tiny value, and no PE is reported for the rounding that did not happen.
const unmaskedStores = `
  ; underflow unmasked (CW 0x036F)
  mov dword [edi + 0x800], 0x036f
  fldcw [edi + 0x800]
  mov dword [edi + 0], 0x11111111
  mov dword [edi + 4], 0x22222222
  fld qword [c_exact_tiny]
  fst dword [edi + 0] ; 2^-140: exact as a single denormal, but tiny
  fnstsw ax
  mov [edi + 16], ax
  fnclex
  fld qword [c_inexact_tiny]
  fst dword [edi + 4] ; inexact and tiny
  fnstsw ax
  mov [edi + 18], ax
  fnclex
  ; overflow unmasked (CW 0x0377)
  mov dword [edi + 0x800], 0x0377
  fldcw [edi + 0x800]
  mov dword [edi + 8], 0x33333333
  fld qword [c_big]
  fst dword [edi + 8]
  fnstsw ax
  mov [edi + 20], ax
  fnclex
  ; both masked again: the same stores round and store
  mov dword [edi + 0x800], 0x037f
  fldcw [edi + 0x800]
  fst dword [edi + 24]
  fstp st0
  fst dword [edi + 28]
  fnstsw ax
  mov [edi + 22], ax
  fstp st0
  fstp st0
  ret
align 8
c_exact_tiny: dq 0x3730000000000000 ; 2^-140
c_inexact_tiny: dq 0x3730000000000001
c_big: dq 1.0e300
`;

// Exact zero sums in every rounding mode: +0, except -0 when rounding down; two zeros of the
// same sign keep it. One record of 32 bytes per mode.
const zeroSums = `
  xor ebx, ebx
.mode:
  mov eax, ebx
  shl eax, 10
  or eax, 0x027f
  mov [edi + 0x800], eax
  fldcw [edi + 0x800]
  mov ebp, ebx
  shl ebp, 5
  add ebp, edi
  fld qword [c_x]
  fsub st0, st0 ; x - x
  fstp qword [ebp + 0]
  fldz
  fld qword [c_mzero]
  faddp st1, st0 ; +0 + -0
  fstp qword [ebp + 8]
  fld qword [c_mzero]
  fadd qword [c_mzero] ; -0 + -0
  fstp qword [ebp + 16]
  fld qword [c_x]
  fchs
  fadd qword [c_x] ; -x + x
  fstp qword [ebp + 24]
  inc ebx
  cmp ebx, 4
  jb .mode
  ret
align 8
c_x: dq 1.375
c_mzero: dq 0x8000000000000000
`;

// Condition codes after an unmasked invalid operand stops the instruction: FLD of an SNaN
// clears C1, FPREM1 of an unnormal clears C1 and C2 (the SDM leaves both unspecified; the
// host's FPU clears them). Only non-waiting instructions follow, so no #MF is raised.
const unmaskedInvalid = `
  fld qword [c_third]
  fst dword [edi + 0x810] ; 1/3 rounds up to a single: C1 = 1
  mov dword [edi + 0x800], 0x037e ; IE unmasked
  fldcw [edi + 0x800]
  fld qword [c_snan]
  fnstsw ax
  mov [edi + 0], ax
  fnclex
  fld1
  fchs
  fxam ; a negative normal: C2 = 1, C1 = 1
  fld tword [c_unnormal]
  fprem1
  fnstsw ax
  mov [edi + 2], ax
  fnclex
  mov dword [edi + 0x800], 0x037f
  fldcw [edi + 0x800]
  fstp st0
  fstp st0
  fstp st0
  ret
align 8
c_third: dq 0x3fd5555555555555
c_snan: dq 0x7ff4000000000001
c_unnormal: dq 0x4000000000000000
  dw 0x4001
`;

// FBSTP of a value beyond 18 digits that also has a fraction: IE alone (no PE from rounding),
// the BCD indefinite stored.
const bcdOverflow = `
  fld tword [c_big_fraction]
  fbstp [edi + 0]
  fnstsw ax
  mov [edi + 10], ax
  ret
align 8
c_big_fraction: dq 0xffffffff3b93854b ; about 2.3e18 with fraction bits
  dw 0xc03b
`;

describe('x87 precision control and directed rounding against this machine\'s FPU', () => {
  it('reports IE without PE when FBSTP finds a value beyond 18 digits', () => {
    const native = differential(bcdOverflow, 12, 1);
    expect(native[10] & 0x3f).toBe(0x01);
  });

  it('clears C1 (FLD) and C1, C2 (FPREM1) when an unmasked invalid operand stops them', () => {
    const native = differential(unmaskedInvalid, 4, 1);
    const v = new DataView(native.buffer);
    expect(v.getUint16(0, true) & 0x3a81).toBe(0x3881); // ES, IE, TOP unchanged (7), C1 clear
    expect(v.getUint16(2, true) & 0x0681).toBe(0x0081); // ES, IE, C1 = C2 = 0
  });

  it('gives exact zero sums the sign of the rounding mode', () => {
    const native = differential(zeroSums, 32, 4);
    const v = new DataView(native.buffer);
    expect(Object.is(v.getFloat64(32 + 0, true), -0)).toBe(true); // round down: x - x = -0
    expect(Object.is(v.getFloat64(0, true), 0)).toBe(true); // nearest: +0
  });

  it('rounds to 24 bits once, in every rounding mode, keeping the exponent range', () => {
    const native = differential(singlePrecision, 64, 4);
    // The midpoint case rounds up to 1 + 2^-23 under round-to-nearest (mode 0).
    expect(new DataView(native.buffer).getFloat64(0, true)).toBe(1 + 2 ** -23);
    // No overflow or underflow flag from the 2^200 and 2^-200 products.
    expect(native[0x32] & 0x18).toBe(0);
    expect(native[0x34] & 0x18).toBe(0);
  });

  it('stores nothing and reports no PE when underflow or overflow is unmasked', () => {
    const native = differential(unmaskedStores, 32, 1);
    const v = new DataView(native.buffer);
    expect(v.getUint32(0, true)).toBe(0x11111111);
    expect(v.getUint16(16, true) & 0x3f).toBe(0x10); // UE alone
    expect(v.getUint16(18, true) & 0x3f).toBe(0x10);
    expect(v.getUint16(20, true) & 0x3f).toBe(0x08); // OE alone
    expect(v.getUint32(8, true)).toBe(0x33333333);
  });
});
