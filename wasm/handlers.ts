// Everything the generated dispatcher (wasm/generated/execute.ts) may call from a table row.
export * from './layout';
export * from './regs';
export * from './fault';
export * from './flags';
export * from './alu';
export * from './decode';
export * from './memory';
export * from './segments';
export * from './stack';
export * from './string';
export * from './io';
export * from './system';
export * from './control';
export * from './interrupts';
export * from './near-control';
export * from './stack-instructions';
export * from './data-instructions';
export { beginInterruptShadow, halt, fwait, rdpmc } from './cpu';
