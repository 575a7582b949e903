// Instruction-times beyond one that the instruction just executed took. The run loop adds them
// to the retired count it keeps (the budget, guest time in virtual-time mode and the TSC all
// follow that count), on its stop-check path, so every instruction that adds some must stop.

let extraRetired: u32 = 0;

/** The current instruction counts `n` more than one (a REP's further iterations, PAUSE's wait). */
export function addRetired(n: u32): void {
  extraRetired += n;
}

/** The extra count since the run loop last asked, which it now takes. */
export function collectExtraRetired(): u32 {
  const n = extraRetired;
  extraRetired = 0;
  return n;
}
