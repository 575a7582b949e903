// The CPU's whole view of the platform: port I/O, MMIO for device pages, and the interrupt
// acknowledge cycle. The machine provides these as synchronous JavaScript functions.

/** Read a port; size is 1, 2 or 4 bytes. */
@external("env", "portIn")
export declare function portIn(port: u32, size: i32): u32;
@external("env", "portOut")
export declare function portOut(port: u32, size: i32, value: u32): void;
/** Read a physical address on a page the machine marked as a device page. */
@external("env", "mmioRead")
export declare function mmioRead(address: u32, size: i32): u32;
@external("env", "mmioWrite")
export declare function mmioWrite(address: u32, size: i32, value: u32): void;
/** INTA cycle: the interrupt controller returns the vector of the interrupt being taken. */
@external("env", "interruptAcknowledge")
export declare function interruptAcknowledge(): i32;
/** The FPU's FERR# output (asserted while an unmasked x87 exception is pending, CR0.NE = 0). */
@external("env", "ferr")
export declare function ferr(asserted: i32): void;
/** WRMSR to IA32_APIC_BASE (0x1B): the machine tells this vCPU's local APIC (enable, BSP, base). */
@external("env", "apicBaseWrite")
export declare function apicBaseWrite(low: u32, high: u32): void;
