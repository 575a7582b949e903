/**
 * The memory both sides of the differential test use, at the same linear addresses in the
 * native 32-bit process (native-runner.c) and in the WebAssembly CPU (paging on, identity
 * mapped): a read-only code page, a guard page, two read/write data pages, a read-only page and
 * another guard page. The generator aims memory operands at these pages only, so a sequence can
 * never touch anything else in the native process.
 */
export const CODE_PAGE = 0x0020_0000;
export const GUARD_LO = 0x0020_1000;
export const DATA = 0x0020_2000;
export const DATA_SIZE = 0x2000;
export const RO_PAGE = 0x0020_4000;
export const GUARD_HI = 0x0020_5000;
export const MAX_CODE = 0x1000;
/** The pages a sequence's memory operands may reach without faulting (reads). */
export const READABLE_LO = DATA;
export const READABLE_HI = GUARD_HI; // exclusive

/** EFLAGS bits compared: CF PF AF ZF SF TF IF DF OF (RF and the reserved bits are not state). */
export const COMPARED_FLAGS = 0x0fd5;

/** Flag letters of the opcode table's `flags`/`undef` fields as EFLAGS bits. */
export function flagMask(letters: string | undefined): number {
  let m = 0;
  for (const c of letters ?? '') m |= { O: 0x800, S: 0x80, Z: 0x40, A: 0x10, P: 0x4, C: 0x1, D: 0x400, I: 0x200 }[c] ?? 0;
  return m;
}

/**
 * Initial contents of DATA and RO_PAGE for a case seed. Must stay identical to fill() in
 * native-runner.c: xorshift32 with a bias towards 0, all-ones, small and sign-bit values.
 */
export function fillData(out: Uint8Array, seed: number): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i + 4 <= out.length; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    let v: number;
    switch (x >>> 29) {
      case 0: v = 0; break;
      case 1: v = 0xffffffff; break;
      case 2: v = x & 0xff; break;
      case 3: v = (0x80000000 ^ (x & 0xffff)) >>> 0; break;
      default: v = Math.imul(x, 0x2545f491) >>> 0; break;
    }
    view.setUint32(i, v, true);
  }
}
