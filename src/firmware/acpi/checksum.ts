/**
 * The 8-bit checksums of the firmware tables: ACPI tables (ACPI 2.0, section 5.2: "the entire
 * table, including the checksum field, must add to zero"), the RSDP's two checksums, and the
 * MultiProcessor Specification 1.4 floating pointer and configuration table, which follow the
 * same rule.
 */

/** Sum of `length` bytes from `start`, modulo 256. */
export function byteSum(data: Uint8Array, start = 0, length = data.length - start): number {
  let sum = 0;
  for (let i = start; i < start + length; i++) sum = (sum + data[i]) & 0xff;
  return sum;
}

/**
 * Sets the byte at `at` so that `length` bytes from `start` (a range that includes `at`) add up
 * to zero. The same arithmetic as the table-loader's ADD_CHECKSUM command.
 */
export function fixChecksum(data: Uint8Array, at: number, start = 0, length = data.length - start): void {
  data[at] = (data[at] - byteSum(data, start, length)) & 0xff;
}
