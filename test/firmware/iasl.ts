/**
 * Test helper (Node only): runs ACPICA's disassembler, `iasl -d`, on a table and returns what it
 * printed and the disassembly. CI needs the Debian package acpica-tools; without it the tests
 * that use this are skipped and say so.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function findIasl(): boolean {
  try {
    execFileSync('iasl', ['-v'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

export const hasIasl = findIasl();
if (!hasIasl) console.warn('iasl not found: AML/table disassembly checks skipped (install the acpica-tools package)');

export interface Disassembly {
  status: number;
  output: string;
  dsl: string;
}

/** Disassembles one table (`name` is the file's base name, e.g. "dsdt"). */
export function disassemble(table: Uint8Array, name = 'table'): Disassembly {
  const dir = mkdtempSync(join(tmpdir(), 'webhvm-iasl-'));
  try {
    const aml = join(dir, `${name}.aml`);
    writeFileSync(aml, table);
    const run = spawnSync('iasl', ['-d', aml], { cwd: dir, encoding: 'utf8' });
    let dsl = '';
    try {
      dsl = readFileSync(join(dir, `${name}.dsl`), 'utf8');
    } catch {
      dsl = '';
    }
    return { status: run.status ?? -1, output: `${run.stdout}${run.stderr}`, dsl };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Recompiles a disassembly with iasl and returns the error/warning lines it printed. */
export function recompile(dsl: string): { status: number; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'webhvm-iasl-'));
  try {
    const file = join(dir, 'table.dsl');
    writeFileSync(file, dsl);
    const run = spawnSync('iasl', ['-p', join(dir, 'out'), file], { cwd: dir, encoding: 'utf8' });
    return { status: run.status ?? -1, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lines of iasl output that report a problem ("Error", "Warning", "Invalid", "Incorrect"). */
export function problems(output: string): string[] {
  return output.split('\n').filter((l) => /error|warning|invalid|incorrect/i.test(l) && !/0 Errors/.test(l));
}
