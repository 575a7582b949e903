/**
 * Helpers for boot tests: write a domain configuration into a temporary directory and run the
 * real command-line runner on it (`node bin/webhvm.js run ...`), as a user would.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const IMAGES = process.env.WEBHVM_IMAGES_OUT ?? join(ROOT, 'test/images/out');
const REQUIRE = process.env.WEBHVM_REQUIRE_IMAGES === '1';

/** True when the guest images exist; when they are required (CI) and missing, this throws. */
export function imagesAvailable(...names: string[]): boolean {
  const missing = names.filter((n) => !existsSync(join(IMAGES, n)));
  if (missing.length && REQUIRE) throw new Error(`guest images missing: ${missing.join(', ')} (run bash test/images/build-guests.sh)`);
  return missing.length === 0;
}

export function image(name: string): string {
  return join(IMAGES, name);
}

/** Write `config` to a fresh directory; returns the file's path. */
export function writeConfig(config: string, name = 'guest.cfg'): string {
  const dir = mkdtempSync(join(tmpdir(), 'webhvm-boot-'));
  const path = join(dir, name);
  writeFileSync(path, config);
  return path;
}

export interface RunnerResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `webhvm run` with `args`; `input` lines are typed on the first guest's serial console,
 * each once `after` (a string) has appeared in the output. Runs are deterministic by default
 * (guest time, disk answers and the RTC independent of the host, several VMs in a fixed
 * interleaving), so a boot test behaves the same on a loaded machine; with --relay (guest time
 * from the host clock) or `deterministic: false` they run the regular way.
 */
export function runWebhvm(args: string[], input: { after: string; send: string }[] = [], options: { deterministic?: boolean } = {}): Promise<RunnerResult> {
  const deterministic = options.deterministic ?? !args.includes('--relay');
  const runArgs = deterministic && !args.includes('--deterministic') ? ['--deterministic', ...args] : args;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/webhvm.js'), 'run', ...runArgs], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const pending = [...input];
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('latin1');
      while (pending.length && stdout.includes(pending[0].after)) {
        child.stdin.write(pending.shift()!.send);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
