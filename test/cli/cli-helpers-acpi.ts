/**
 * Test helper: run the `webhvm` command line (bin/webhvm.js) synchronously with a configuration
 * written to a temporary directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'webhvm-cli-'));
}

/** A configuration file with these settings (and a disk path that need not exist). */
export function configFile(settings: string, dir = tempDir()): string {
  const path = join(dir, 'guest.cfg');
  writeFileSync(path, `builder = 'hvm'\nmemory = 128\ndisk = [ 'file:/nonexistent/disk.img,hda,w' ]\n${settings}\n`);
  return path;
}

export function webhvm(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/webhvm.js'), ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
