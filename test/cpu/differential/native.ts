/**
 * Builds native-runner.c with gcc -m32 (once per source version, into the system's temp
 * directory) and runs batches of cases through it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestCase } from './generator.ts';
import { exponentOf, extendedToNumber, hasErrorCode, mantissaOf, type CpuResult } from './results.ts';

const SOURCE = fileURLToPath(new URL('./native-runner.c', import.meta.url));

/** Path of the compiled runner, compiling it if needed. */
export function nativeRunner(): string {
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'webhvm-differential');
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, `native-runner-${hash}`);
  if (!existsSync(exe)) {
    const tmp = `${exe}.${process.pid}`;
    execFileSync('gcc', ['-m32', '-O2', '-no-pie', '-Wall', '-o', tmp, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(tmp, exe);
  }
  return exe;
}

export function encodeCases(cases: TestCase[]): Buffer {
  const parts: Buffer[] = [];
  for (const c of cases) {
    const head = Buffer.alloc(8);
    head.writeUInt32LE(0x45534143, 0);
    head.writeUInt32LE(c.code.length, 4);
    const tail = Buffer.alloc(44);
    c.regs.forEach((r, i) => tail.writeUInt32LE(r >>> 0, i * 4));
    tail.writeUInt32LE(c.eflags >>> 0, 32);
    tail.writeUInt32LE(c.seed >>> 0, 36);
    tail.writeUInt32LE(c.fpuControl >>> 0, 40);
    parts.push(head, Buffer.from(c.code), tail);
  }
  return Buffer.concat(parts);
}

/** Run the cases natively; one result per case, in order. */
export function runNative(cases: TestCase[]): CpuResult[] {
  const exe = nativeRunner();
  const dir = join(tmpdir(), 'webhvm-differential');
  const input = join(dir, `in-${process.pid}.bin`);
  const output = join(dir, `out-${process.pid}.bin`);
  writeFileSync(input, encodeCases(cases));
  // A case must never hang the run (e.g. a #MF the kernel retried forever): a batch gets 5 minutes.
  const r = spawnSync(exe, [input, output], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  if (r.status !== 0) throw new Error(`native runner failed (${r.status ?? r.signal}): ${r.stderr}`);
  const d = readFileSync(output);
  const results: CpuResult[] = [];
  let at = 0;
  for (let k = 0; k < cases.length; k++) {
    if (at + 56 + 92 + 4 > d.length) throw new Error(`native runner returned ${k} of ${cases.length} results`);
    const u = (i: number) => d.readUInt32LE(at + i * 4);
    const regs = [0, 1, 2, 3, 4, 5, 6, 7].map(u);
    const trapno = u(10);
    const fpuBytes = new Uint8Array(d.subarray(at + 56, at + 56 + 92));
    const fv = new DataView(fpuBytes.buffer, fpuBytes.byteOffset, 92);
    const status = fv.getUint32(4, true);
    const top = (status >> 11) & 7;
    const values: number[] = [];
    const mantissas: bigint[] = [];
    const exponents: number[] = [];
    for (let p = 0; p < 8; p++) {
      const st = (p - top + 8) & 7; // FSAVE stores ST(i); physical Rp is ST((p - TOP) mod 8)
      values.push(extendedToNumber(fpuBytes, 12 + st * 10));
      mantissas.push(mantissaOf(fpuBytes, 12 + st * 10));
      exponents.push(exponentOf(fpuBytes, 12 + st * 10));
    }
    const result: CpuResult = {
      regs,
      eflags: u(8) & ~0x10000, // RF is set by the kernel's signal frame, not by the sequence
      eip: u(9),
      vector: trapno,
      errorCode: hasErrorCode(trapno) ? u(11) : -1,
      cr2: u(12),
      fpu: { control: fv.getUint32(0, true), status, tag: fv.getUint32(8, true), values, mantissas, exponents },
      changes: new Map(),
    };
    at += 56 + 92;
    const n = d.readUInt32LE(at);
    at += 4;
    for (let i = 0; i < n; i++, at += 3) result.changes.set(d[at] | (d[at + 1] << 8), d[at + 2]);
    results.push(result);
  }
  return results;
}
