// Keeps `npm run bench` from rotting without running it in CI: every workload runs in WebHVM
// with one short iteration, must report its phase through the serial markers, retire the
// instruction count its row in bench/workloads.ts claims, and print the checksum that a
// TypeScript model of the same loop computes.
import { describe, expect, it } from 'vitest';
import { runWebHvm } from '../../bench/webhvm.ts';
import { WORKLOADS, buildWorkload, type Workload } from '../../bench/workloads.ts';

const OUTER = 1;
const REPEATS = 2;

function workload(name: string): Workload {
  const w = WORKLOADS.find((x) => x.name === name);
  if (!w) throw new Error(`no workload ${name}`);
  return w;
}

function run(name: string) {
  return runWebHvm(buildWorkload(workload(name), OUTER, REPEATS), { maxInstructions: 5_000_000 });
}

const hex = (v: number) => (v >>> 0).toString(16).padStart(8, '0');
const rol = (v: number, n: number) => ((v << n) | (v >>> (32 - n))) >>> 0;

/** The pattern the workloads fill their buffers with. */
function pattern(count: number, first: number): Uint32Array {
  const a = new Uint32Array(count);
  for (let i = 0, v = first; i < count; i++, v = (v + 0x9e3779b9) >>> 0) a[i] = v;
  return a;
}

function aluModel(): number {
  const buffer = pattern(4096, 0x12345678);
  let ebx = 0;
  let edx = 0;
  for (let r = 0; r < REPEATS; r++) {
    edx = ((edx & 0xffff0000) | 0x3f8) >>> 0; // `mov dx, 0x3F8` of the start marker
    for (let o = 0; o < OUTER; o++) {
      for (let i = 0; i < 4096; i++) {
        const eax = buffer[i];
        ebx = (ebx + eax) >>> 0;
        edx = rol((edx ^ ebx) >>> 0, 3);
        buffer[i] = (eax + edx * 2) >>> 0;
      }
    }
  }
  return ebx;
}

function stringCopyModel(): number {
  const source = new Uint8Array(pattern(16384 + 1024, 0x01020304).buffer);
  const dest = new Uint8Array(65536 + 4096);
  dest.set(source.subarray(0, 65536), 0);
  dest.set(source.subarray(1, 1 + 4093), 65536 + 3);
  const words = new Uint32Array(dest.buffer);
  let sum = 0;
  for (const w of words) sum = (sum + w) >>> 0;
  return sum;
}

function pagingModel(): number {
  // Page i gets ECX = 4096 - i added twice per round (touch pass and INVLPG pass).
  let sum = 0;
  for (let i = 0; i < 4096; i++) sum = (sum + 2 * (4096 - i) * OUTER * REPEATS) >>> 0;
  return sum;
}

describe('benchmark workloads in WebHVM (smoke)', () => {
  it('alu: completes its phases, retires the known count and computes the model checksum', () => {
    const r = run('alu');
    expect(r.stop).toBe('exit');
    expect(r.text).toBe('');
    expect(r.phases.map((p) => p.counted)).toEqual([workload('alu').phaseInstructions(OUTER), workload('alu').phaseInstructions(OUTER)]);
    expect(r.checksum).toBe(hex(aluModel()));
  });

  it('string-copy: completes its phases and copies what the model copies', () => {
    const r = run('string-copy');
    expect(r.stop).toBe('exit');
    expect(r.text).toBe('');
    expect(r.phases).toHaveLength(REPEATS);
    expect(r.checksum).toBe(hex(stringCopyModel()));
  });

  it('paging: completes its phases with paging on, retires the known count and touches every page', () => {
    const r = run('paging');
    expect(r.stop).toBe('exit');
    expect(r.text).toBe('');
    expect(r.phases.map((p) => p.counted)).toEqual([workload('paging').phaseInstructions(OUTER), workload('paging').phaseInstructions(OUTER)]);
    expect(r.checksum).toBe(hex(pagingModel()));
    expect(r.checksum).toBe(hex(2 * OUTER * REPEATS * (4096 * 4097) / 2));
  });
});
