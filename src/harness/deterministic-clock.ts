/**
 * The host-independent start of a deterministic machine's clock, shared by the Node runner and
 * the page (the RTC must read the same at power-on everywhere, or runs differ).
 */

/** 2024-01-01T00:00:00Z: the RTC's time at power-on in deterministic mode. */
export const DETERMINISTIC_EPOCH = 1_704_067_200;

/** The SetupHooks time fields for deterministic mode: the fixed epoch, and `localtime` is UTC (the host's zone is not asked). */
export const DETERMINISTIC_TIME = { nowSeconds: DETERMINISTIC_EPOCH, localOffsetSeconds: 0 } as const;
