import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { byteSum } from '../../src/firmware/acpi/checksum.ts';
import { disassemble, hasIasl } from '../firmware/iasl.ts';
import { configFile, tempDir, webhvm } from './cli-helpers-acpi.ts';

function tables(acpi: number, apic: number, vcpus = 1): { dir: string; files: string[]; listing: string; status: number | null } {
  const dir = tempDir();
  const out = join(dir, 'tables');
  const r = webhvm('tables', configFile(`name = 't'\nacpi = ${acpi}\napic = ${apic}\nvcpus = ${vcpus}`, dir), '--out', out);
  return { dir: out, files: existsSync(out) ? readdirSync(out).sort() : [], listing: existsSync(join(out, 'tables.txt')) ? readFileSync(join(out, 'tables.txt'), 'utf8') : '', status: r.status };
}

describe('webhvm tables', () => {
  it('acpi=1 apic=1 vcpus=2: every ACPI table and the MP table, checksums right, pointers holding the listed addresses', () => {
    const t = tables(1, 1, 2);
    expect(t.status).toBe(0);
    expect(t.files).toEqual(['apic.dat', 'dsdt.dat', 'facp.dat', 'facs.dat', 'mptable.bin', 'rsdp.dat', 'rsdt.dat', 'xsdt.dat', 'tables.txt'].sort());
    const address = (file: string) => Number.parseInt(new RegExp(`^${file.replace('.', '\\.')}\\s+\\S+\\s+0x([0-9A-F]+)`, 'm').exec(t.listing)![1], 16);
    const read = (file: string) => new Uint8Array(readFileSync(join(t.dir, file)));
    const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
    const rsdp = read('rsdp.dat');
    expect(String.fromCharCode(...rsdp.subarray(0, 8))).toBe('RSD PTR ');
    expect(byteSum(rsdp, 0, 20)).toBe(0);
    expect(u32(rsdp, 16)).toBe(address('rsdt.dat'));
    expect(u32(rsdp, 24)).toBe(address('xsdt.dat'));
    for (const f of ['apic.dat', 'dsdt.dat', 'facp.dat', 'rsdt.dat', 'xsdt.dat']) expect(byteSum(read(f)), f).toBe(0);
    expect(u32(read('facp.dat'), 40)).toBe(address('dsdt.dat'));
    const mp = read('mptable.bin');
    expect(String.fromCharCode(...mp.subarray(0, 4))).toBe('_MP_');
    expect(u32(mp, 4)).toBe(address('mptable.bin') + 16);
    expect(byteSum(mp, 0, 16)).toBe(0);
    expect(byteSum(mp, 16)).toBe(0);
  });

  it.runIf(hasIasl)('iasl -d disassembles every ACPI table file without errors', () => {
    for (const [acpi, apic] of [[1, 0], [1, 1]]) {
      const t = tables(acpi, apic, apic ? 2 : 1);
      for (const f of t.files.filter((f) => f.endsWith('.dat') && f !== 'rsdp.dat')) {
        const d = disassemble(new Uint8Array(readFileSync(join(t.dir, f))), f.replace('.dat', ''));
        expect(d.status, `${f}: ${d.output}`).toBe(0);
        expect(d.output).not.toMatch(/error/i);
        expect(d.dsl.length).toBeGreaterThan(100);
        if (f === 'dsdt.dat') expect(d.dsl).toContain('_S5_');
        if (f === 'apic.dat') expect(d.dsl).toMatch(/Processor Local APIC[\s\S]*Processor Local APIC/);
        if (f === 'facp.dat') expect(d.dsl).toMatch(/SMI Command Port : 000000B2/);
      }
    }
  });

  it('acpi=1 apic=0 has no MADT and no MP table; acpi=0 apic=1 only the MP table; acpi=0 apic=0 nothing', () => {
    expect(tables(1, 0).files).not.toContain('apic.dat');
    expect(tables(1, 0).files).not.toContain('mptable.bin');
    expect(tables(0, 1).files).toEqual(['mptable.bin', 'tables.txt']);
    const none = tables(0, 0);
    expect(none.status).toBe(0);
    expect(none.files).toEqual(['tables.txt']);
    expect(none.listing).toContain('no ACPI tables and no MP table');
  });

  it('needs --out and a configuration', () => {
    expect(webhvm('tables', configFile("name = 't'")).status).toBe(2);
    expect(webhvm('tables', '--out', tempDir()).status).toBe(2);
  });
});
