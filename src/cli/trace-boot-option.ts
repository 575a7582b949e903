/**
 * NODE-ONLY: `webhvm run --trace-boot FILE`: the machine's boot-path trace (src/machine/boot-trace.ts)
 * written to FILE as JSON lines, one event per line, as the events happen (so a run that is
 * killed or times out still leaves what it saw). At the end of the run the interrupt hardware is
 * looked at once more, so the last `interrupt-mode` line is the mode the OS ended in.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import type { Machine } from '../machine/machine.ts';

export interface BootTraceFile {
  /** Record the final interrupt mode and stop writing. */
  finish(): void;
}

/** Start tracing `machine` into `path` (created or truncated now). Throws if the file cannot be written. */
export function traceBootToFile(machine: Machine, path: string): BootTraceFile {
  writeFileSync(path, '');
  const trace = machine.enableBootTrace();
  for (const e of trace.events) appendFileSync(path, JSON.stringify(e) + '\n');
  const stop = trace.onEvent((e) => appendFileSync(path, JSON.stringify(e) + '\n'));
  return {
    finish: () => {
      machine.bootTraceRecorder?.finish();
      stop();
    },
  };
}
