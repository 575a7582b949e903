import { describe, expect, it } from 'vitest';
import type { DmaMemory } from '../../src/bus/dma-memory.ts';
import { IoBus } from '../../src/bus/io-bus.ts';
import { FW_CFG_FILE_DIR, FW_CFG_MAX_CPUS, FwCfg } from '../../src/devices/fw-cfg.ts';
import { byteSum } from '../../src/firmware/acpi/checksum.ts';
import { ACPI_RSDP_FILE, ACPI_TABLES_FILE } from '../../src/firmware/acpi/tables.ts';
import { describeBoard } from '../../src/firmware/board-description.ts';
import { firmwareTablesFor, installFirmwareTables, SEABIOS_NO_LEGACY_TABLES_MAX_CPUS } from '../../src/firmware/firmware-tables.ts';
import { MP_TABLE_FILE } from '../../src/firmware/mp-table.ts';
import { TABLE_LOADER_FILE } from '../../src/firmware/table-loader.ts';
import { disassemble, hasIasl, problems } from './iasl.ts';
import { runTableLoader, type LoaderRun } from './loader-executor.ts';

const noDma: DmaMemory = { read: (_a, d) => d.fill(0xff), write: () => {}, readU32: () => 0xffffffff, writeU32: () => {} };

/** Reads fw_cfg through its ports as SeaBIOS's port-I/O path does: directory, then each file. */
function readFwCfgFiles(io: IoBus): Map<string, Uint8Array> {
  const select = (key: number) => io.write(0x510, 2, key);
  const readBytes = (n: number) => Uint8Array.from({ length: n }, () => io.read(0x511, 1));
  select(FW_CFG_FILE_DIR);
  const countBytes = readBytes(4);
  const count = new DataView(countBytes.buffer).getUint32(0);
  const entries: { name: string; size: number; key: number }[] = [];
  for (let i = 0; i < count; i++) {
    const e = readBytes(64);
    const v = new DataView(e.buffer);
    const nameBytes = e.subarray(8);
    entries.push({ size: v.getUint32(0), key: v.getUint16(4), name: new TextDecoder().decode(nameBytes.subarray(0, nameBytes.indexOf(0))) });
  }
  const files = new Map<string, Uint8Array>();
  for (const e of entries) {
    select(e.key);
    files.set(e.name, readBytes(e.size));
  }
  return files;
}

function readMaxCpus(io: IoBus): number {
  io.write(0x510, 2, FW_CFG_MAX_CPUS);
  return io.read(0x511, 1) | (io.read(0x511, 1) << 8);
}

const CONFIGS = [
  { acpi: false, apic: false, vcpus: 1 },
  { acpi: false, apic: true, vcpus: 1 },
  { acpi: false, apic: true, vcpus: 4 },
  { acpi: true, apic: false, vcpus: 1 },
  { acpi: true, apic: true, vcpus: 1 },
  { acpi: true, apic: true, vcpus: 2 },
];

function boot(config: { acpi: boolean; apic: boolean; vcpus: number }): { run: LoaderRun | undefined; files: Map<string, Uint8Array>; maxCpus: number; pm: boolean } {
  const io = new IoBus();
  const fw = new FwCfg({ io, dma: noDma });
  fw.setNumeric(FW_CFG_MAX_CPUS, config.vcpus, 2); // what installFirmwareConfig does first
  const tables = firmwareTablesFor(describeBoard({ ...config, ramBytesBelow4G: 512 << 20 }));
  installFirmwareTables(fw, tables);
  const files = readFwCfgFiles(io);
  const script = files.get(TABLE_LOADER_FILE);
  const run = script ? runTableLoader(script, (n) => files.get(n)) : undefined;
  return { run, files, maxCpus: readMaxCpus(io), pm: tables.powerManagementFunction };
}

/** Scans loaded F-segment memory on 16-byte boundaries for a signature, as an OS does. */
function scanFSegment(run: LoaderRun | undefined, signature: string): number[] {
  if (!run) return [];
  const found: number[] = [];
  for (const f of run.files.values()) {
    if (f.address < 0xe0000 || f.address >= 0x100000) continue;
    for (let a = Math.ceil(f.address / 16) * 16; a + signature.length <= f.address + f.data.length; a += 16) {
      if (String.fromCharCode(...run.bytesAt(a, signature.length)) === signature) found.push(a);
    }
  }
  return found;
}

describe('firmware tables per configuration, installed in fw_cfg and run through the loader', () => {
  for (const config of CONFIGS) {
    const label = `acpi=${+config.acpi} apic=${+config.apic} vcpus=${config.vcpus}`;
    it(`${label}: loader commands are well-formed and tables appear exactly as the configuration says`, () => {
      const { run, files, maxCpus, pm } = boot(config);
      // SeaBIOS must never build its own MP table or $PIR.
      expect(maxCpus).toBe(SEABIOS_NO_LEGACY_TABLES_MAX_CPUS);
      expect(pm).toBe(config.acpi);
      expect(files.has(ACPI_TABLES_FILE)).toBe(config.acpi);
      expect(files.has(ACPI_RSDP_FILE)).toBe(config.acpi);
      expect(files.has(MP_TABLE_FILE)).toBe(config.apic);
      expect(files.has(TABLE_LOADER_FILE)).toBe(config.acpi || config.apic);
      if (run) expect(run.errors).toEqual([]);

      const rsdps = scanFSegment(run, 'RSD PTR ');
      const mps = scanFSegment(run, '_MP_');
      expect(rsdps.length).toBe(config.acpi ? 1 : 0);
      expect(mps.length).toBe(config.apic ? 1 : 0);

      if (config.apic) {
        const fp = run!.bytesAt(mps[0], 16);
        expect(byteSum(fp)).toBe(0);
        const configAddress = new DataView(fp.buffer, fp.byteOffset).getUint32(4, true);
        const header = run!.bytesAt(configAddress, 44);
        expect(String.fromCharCode(...header.subarray(0, 4))).toBe('PCMP');
        const length = new DataView(header.buffer, header.byteOffset).getUint16(4, true);
        expect(byteSum(run!.bytesAt(configAddress, length))).toBe(0);
        // One processor entry per vCPU, right after the header.
        const table = run!.bytesAt(configAddress, length);
        let processors = 0;
        for (let at = 44; table[at] === 0; at += 20) processors++;
        expect(processors).toBe(config.vcpus);
      }

      if (config.acpi) {
        const rsdp = run!.bytesAt(rsdps[0], 36);
        expect(byteSum(rsdp, 0, 20)).toBe(0);
        expect(byteSum(rsdp)).toBe(0);
        const rv = new DataView(rsdp.buffer, rsdp.byteOffset);
        const rsdtAddress = rv.getUint32(16, true);
        const xsdtAddress = Number(rv.getBigUint64(24, true));
        const table = (address: number) => {
          const len = new DataView(run!.bytesAt(address, 8).slice().buffer).getUint32(4, true);
          return run!.bytesAt(address, len);
        };
        const sig = (t: Uint8Array) => String.fromCharCode(...t.subarray(0, 4));
        const rsdt = table(rsdtAddress);
        const xsdt = table(xsdtAddress);
        expect(sig(rsdt)).toBe('RSDT');
        expect(sig(xsdt)).toBe('XSDT');
        const viaRsdt: string[] = [];
        for (let at = 36; at < rsdt.length; at += 4) {
          const t = table(new DataView(rsdt.slice().buffer).getUint32(at, true));
          expect(byteSum(t)).toBe(0);
          viaRsdt.push(sig(t));
        }
        const viaXsdt: string[] = [];
        for (let at = 36; at < xsdt.length; at += 8) viaXsdt.push(sig(table(Number(new DataView(xsdt.slice().buffer).getBigUint64(at, true)))));
        expect(viaRsdt).toEqual(config.apic ? ['FACP', 'APIC'] : ['FACP']);
        expect(viaXsdt).toEqual(viaRsdt);
        expect(byteSum(rsdt)).toBe(0);
        expect(byteSum(xsdt)).toBe(0);

        const fadtAddress = new DataView(rsdt.slice().buffer).getUint32(36, true);
        const fadt = table(fadtAddress);
        const fv = new DataView(fadt.slice().buffer);
        const facs = run!.bytesAt(fv.getUint32(36, true), 64);
        expect(String.fromCharCode(...facs.subarray(0, 4))).toBe('FACS');
        expect(fv.getUint32(36, true) % 64).toBe(0);
        const dsdtAddress = fv.getUint32(40, true);
        expect(Number(fv.getBigUint64(140, true))).toBe(dsdtAddress);
        const dsdt = table(dsdtAddress);
        expect(sig(dsdt)).toBe('DSDT');
        expect(byteSum(dsdt)).toBe(0);
      }
    });
  }

  it.skipIf(!hasIasl)('every installed table disassembles with iasl -d without errors, after loading', () => {
    for (const config of CONFIGS.filter((c) => c.acpi)) {
      const { run } = boot(config);
      const tables = run!.files.get(ACPI_TABLES_FILE)!;
      const data = tables.data;
      const seen: string[] = [];
      for (let at = 0; at < data.length;) {
        const v = new DataView(data.buffer, data.byteOffset + at);
        const length = v.getUint32(4, true);
        const sig = String.fromCharCode(...data.subarray(at, at + 4));
        seen.push(sig);
        const result = disassemble(data.slice(at, at + length), sig.toLowerCase());
        expect(result.status, `${sig}: ${result.output}`).toBe(0);
        expect(problems(result.output), sig).toEqual([]);
        expect(result.dsl).toMatch(sig === 'FACS' ? /Signature\s*:\s*"FACS"/ : new RegExp(`Signature\\s*(:\\s*)?"${sig === 'DSDT' ? 'DSDT' : sig}"`));
        if (sig !== 'FACS') expect(result.dsl, sig).not.toMatch(/Incorrect checksum|Invalid/i);
        at += length;
      }
      expect(seen).toEqual(config.apic ? ['FACS', 'DSDT', 'FACP', 'APIC', 'RSDT', 'XSDT'] : ['FACS', 'DSDT', 'FACP', 'RSDT', 'XSDT']);
      // iasl -d does not take a bare RSDP; its checksums are checked above.
    }
  });

  it('a loader that names a missing file or a bad pointer is caught by the executor (the checks are real)', () => {
    const { files } = boot({ acpi: true, apic: true, vcpus: 1 });
    const script = files.get(TABLE_LOADER_FILE)!.slice();
    // Corrupt the first ADD_POINTER's offset to point past the end of its destination file.
    for (let at = 0; at < script.length; at += 128) {
      const v = new DataView(script.buffer, at);
      if (v.getUint32(0, true) === 2) {
        v.setUint32(4 + 112, 0x7fffffff, true);
        break;
      }
    }
    const run = runTableLoader(script, (n) => (n === MP_TABLE_FILE ? undefined : files.get(n)));
    expect(run.errors.some((e) => e.startsWith('add-pointer'))).toBe(true);
    expect(run.errors.some((e) => e.includes(`allocate ${MP_TABLE_FILE}`))).toBe(true);
  });
});
