/**
 * The contract every device model implements. A device registers its own ports, MMIO ranges
 * and PCI function in its constructor, drives the IrqLines it was given, and asks the Clock
 * for time. Its saved state is plain data with a version, so a snapshot is a walk over devices
 * and a reordered field can never silently corrupt an old save.
 */
export interface DeviceState {
  /** Version of this device's state format; loadState refuses versions it does not know. */
  version: number;
  [field: string]: unknown;
}

export interface Device {
  /** Stable name used as the key of this device's state in a snapshot. */
  readonly name: string;
  /** Return to the power-on state (as after RESET#). */
  reset(): void;
  saveState(): DeviceState;
  loadState(state: DeviceState): void;
}

/** Thrown by loadState when a saved state does not fit this build's device model. */
export class StateVersionError extends Error {
  constructor(device: string, found: unknown, expected: number) {
    super(`${device}: saved state version ${String(found)} is not supported (expected ${expected})`);
    this.name = 'StateVersionError';
  }
}

/** Checks the version field of a saved state; call first thing in loadState. */
export function checkStateVersion(device: string, state: DeviceState, expected: number): void {
  if (!state || state.version !== expected) throw new StateVersionError(device, state?.version, expected);
}
