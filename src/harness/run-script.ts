/**
 * Runs a TestScript's steps against a ScriptTarget (the machine in this process, or the page's
 * machine in headless Chromium), one after another, and reports each step's result. Files are
 * written through ScriptEnvironment. A failed step ends the script (later steps are reported as
 * skipped).
 */
import { fingerprintDifferences, formatFingerprint } from '../machine/fingerprint.ts';
import { Session } from './session.ts';
import { SessionTarget, type ScriptTarget, type TargetGoal } from './script-target.ts';
import { keysForText, type ScriptStep, type TestScript } from './script.ts';

export interface ScriptEnvironment {
  writeFile(name: string, data: Uint8Array): Promise<void>;
  /** Open a CD image so that an `insert` of `name` can happen at once (a Session target only; other targets open their own). */
  prepareMedia?(name: string): Promise<string>;
  log?(line: string): void;
}

export interface StepResult {
  step: ScriptStep;
  status: 'passed' | 'failed' | 'skipped';
  /** Host milliseconds the step took. */
  ms: number;
  message?: string;
}

/** Guest time between a key's press and release, and after the release. */
const KEY_NS = 10_000_000;

export async function runScript(script: TestScript, on: ScriptTarget | Session, env: ScriptEnvironment): Promise<StepResult[]> {
  const target = on instanceof Session ? new SessionTarget(on, env.prepareMedia) : on;
  const results: StepResult[] = [];
  let failed = false;
  for (const step of script.steps) {
    if (failed) {
      results.push({ step, status: 'skipped', ms: 0 });
      continue;
    }
    const start = Date.now();
    try {
      await runStep(step, script, target, env);
      results.push({ step, status: 'passed', ms: Date.now() - start });
    } catch (e) {
      failed = true;
      results.push({ step, status: 'failed', ms: Date.now() - start, message: (e as Error).message });
    }
  }
  return results;
}

async function runStep({ step }: ScriptStep, script: TestScript, target: ScriptTarget, env: ScriptEnvironment): Promise<void> {
  const timeoutMs = script.timeoutSeconds * 1000;
  const wait = async (goal: Omit<TargetGoal, 'timeoutMs'>, what: string) => {
    const r = await target.run({ timeoutMs, ...goal });
    if (r.end === 'matched' || r.end === 'reached') return;
    if (r.end === 'crash') throw new Error(`${what}: the emulator failed: ${r.error ?? 'unknown error'}`);
    throw new Error(`${what}: the run ended (${r.end}) first`);
  };
  const pass = (ns: number) => wait({ forNs: ns }, 'waiting');
  switch (step.kind) {
    case 'wait-serial':
      return wait({ serial: step.regex }, `no serial output matched /${step.regex.source}/ within ${script.timeoutSeconds} s`);
    case 'wait-screen':
      return wait({ screen: step.regex }, `the screen did not show /${step.regex.source}/ within ${script.timeoutSeconds} s`);
    case 'wait-insns':
      return wait({ insns: step.insns }, `instruction ${step.insns} was not reached`);
    case 'wait-time':
      return pass(step.ns);
    case 'send':
      await target.input({ kind: 'serial', port: 0, bytes: Array.from(step.text, (c) => c.charCodeAt(0) & 0xff) });
      return pass(0);
    case 'type':
      for (const { code, shift } of keysForText(step.text)) await press(target, code, shift, pass);
      return;
    case 'key':
      for (const code of step.codes) await press(target, code, false, pass);
      return;
    case 'tablet':
      if (!(await target.hasTablet())) throw new Error("this machine has no USB tablet (usbdevice = 'tablet')");
      await target.input({ kind: 'tablet', x: step.x, y: step.y, buttons: step.buttons });
      return pass(KEY_NS);
    case 'screenshot':
      return env.writeFile(step.file, await target.screenshotPng());
    case 'fingerprint': {
      const actual = await target.fingerprint();
      env.log?.(formatFingerprint(actual));
      const diff = fingerprintDifferences(step.expect, actual);
      if (diff.length) throw new Error(`fingerprint differs: ${diff.join('; ')}`);
      return;
    }
    case 'eject':
      await target.input({ kind: 'media', drive: step.drive, path: null });
      return pass(0);
    case 'insert':
      await target.input({ kind: 'media', drive: step.drive, path: await target.prepareMedia(step.file) });
      return pass(0);
    case 'snapshot':
      await wait({ ioIdle: true }, 'the disks did not become idle');
      return env.writeFile(step.file, await target.snapshot());
  }
}

async function press(target: ScriptTarget, code: string, shift: boolean, pass: (ns: number) => Promise<void>): Promise<void> {
  if (shift) await target.input({ kind: 'key', code: 'ShiftLeft', down: true });
  await target.input({ kind: 'key', code, down: true });
  await pass(KEY_NS);
  await target.input({ kind: 'key', code, down: false });
  if (shift) await target.input({ kind: 'key', code: 'ShiftLeft', down: false });
  await pass(KEY_NS);
}
