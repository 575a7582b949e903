/**
 * Runs a Machine headless until an end event: the serial output matched --until, the guest
 * powered off or rebooted (per the on_* policies), the emulator failed ("crash"), or the
 * wall-clock timeout passed. Node-only helpers are not used here; the caller wires stdio.
 */
import type { Machine, MachineEvent } from '../machine/machine.ts';

export type EndEvent = 'matched' | 'poweroff' | 'reboot' | 'crash' | 'timeout';
export type PowerPolicy = 'destroy' | 'restart' | 'preserve';

export interface RunLoopOptions {
  until?: RegExp;
  /** Wall-clock limit in seconds (Infinity for none). */
  timeoutSeconds: number;
  onPoweroff: PowerPolicy;
  onReboot: PowerPolicy;
  onCrash: PowerPolicy;
  /** Serial text so far (COM1), owned by the caller, checked against `until`. */
  serialText: () => string;
  /** Told about each guest power event and how it was handled. */
  onNote?: (message: string) => void;
}

export interface RunResult {
  event: EndEvent;
  error?: unknown;
}

const yieldToHost = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runUntilEnd(machine: Machine, options: RunLoopOptions): Promise<RunResult> {
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let checkedLength = 0;
  let stuckNoted = false;
  for (;;) {
    let event: MachineEvent | undefined;
    try {
      // A batch of slices between host yields (async disk reads complete during the yield).
      const batchEnd = Date.now() + 20;
      do {
        event = machine.runSlice();
        if (event || machine.idle) break;
      } while (Date.now() < batchEnd);
    } catch (error) {
      return { event: 'crash', error };
    }
    if (options.until) {
      const text = options.serialText();
      if (text.length !== checkedLength) {
        checkedLength = text.length;
        if (options.until.test(text)) return { event: 'matched' };
      }
    }
    if (event) {
      const kind: EndEvent = event === 'poweroff' ? 'poweroff' : 'reboot';
      const policy = kind === 'poweroff' ? options.onPoweroff : options.onReboot;
      if (policy === 'restart') {
        options.onNote?.(`guest ${event === 'triple-fault' ? 'triple-faulted' : event === 'poweroff' ? 'powered off' : 'rebooted'}: restarting (on_${kind === 'poweroff' ? 'poweroff' : 'reboot'}='restart')`);
        machine.reset();
        continue;
      }
      options.onNote?.(`guest ${event === 'triple-fault' ? 'triple-faulted (a reboot)' : event}`);
      return { event: kind };
    }
    if (Date.now() >= deadline) return { event: 'timeout' };
    if (machine.idle) {
      if (machine.cpu.halted && !(machine.cpu.eflags & 0x200) && !stuckNoted) {
        stuckNoted = true;
        options.onNote?.('guest halted with interrupts disabled: nothing can wake it');
      }
      await Promise.race([machine.whenMediaIdle(), sleep(10)]);
    } else {
      await yieldToHost();
    }
  }
}
