import { describe, expect, it } from 'vitest';
import { byteSum } from '../../../src/firmware/acpi/checksum.ts';
import {
  buildAcpiTables, buildFacs, buildFadt, buildHpet, buildMadt, buildRsdp, FADT, FADT_LENGTH, FADT_RESET_REG_SUP, INTI_LEVEL_HIGH,
} from '../../../src/firmware/acpi/tables.ts';
import { describeBoard } from '../../../src/firmware/board-description.ts';
import { disassemble, hasIasl, problems } from '../iasl.ts';

const board = (apic: boolean, vcpus = 1, hpet = false) => describeBoard({ acpi: true, apic, vcpus, ramBytesBelow4G: 256 << 20, hpet });

/** MADT entries as [type, bytes]. */
function madtEntries(madt: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 44; at < madt.length; at += madt[at + 1]) out.push(madt.subarray(at, at + madt[at + 1]));
  return out;
}

describe('ACPI tables', () => {
  it('FADT points at the PIIX4 blocks, the SCI, the SMI port and the reset register', () => {
    const fadt = buildFadt(board(true), 0, 64);
    const v = new DataView(fadt.buffer);
    expect(fadt.length).toBe(FADT_LENGTH);
    expect(fadt[8]).toBe(3);
    expect(byteSum(fadt)).toBe(0);
    expect(v.getUint32(FADT.DSDT, true)).toBe(64);
    expect(v.getUint16(FADT.SCI_INT, true)).toBe(9);
    expect(v.getUint32(FADT.SMI_CMD, true)).toBe(0xb2);
    expect([fadt[FADT.ACPI_ENABLE], fadt[FADT.ACPI_DISABLE]]).toEqual([0xf1, 0xf0]);
    expect(v.getUint32(FADT.PM1A_EVT_BLK, true)).toBe(0x600);
    expect(v.getUint32(FADT.PM1A_CNT_BLK, true)).toBe(0x604);
    expect(v.getUint32(FADT.PM_TMR_BLK, true)).toBe(0x608);
    expect(v.getUint32(FADT.GPE0_BLK, true)).toBe(0xafe0);
    expect([fadt[FADT.PM1_EVT_LEN], fadt[FADT.PM1_CNT_LEN], fadt[FADT.PM_TMR_LEN], fadt[FADT.GPE0_BLK_LEN]]).toEqual([4, 2, 4, 4]);
    expect(fadt[FADT.CENTURY]).toBe(0x32);
    expect(v.getUint32(FADT.FLAGS, true) & FADT_RESET_REG_SUP).toBeTruthy();
    // Reset register: system I/O, 8 bits, port 0xCF9, value 6.
    expect([fadt[FADT.RESET_REG], fadt[FADT.RESET_REG + 1]]).toEqual([1, 8]);
    expect(Number(v.getBigUint64(FADT.RESET_REG + 4, true))).toBe(0xcf9);
    expect(fadt[FADT.RESET_VALUE]).toBe(6);
    expect(Number(v.getBigUint64(FADT.X_PM_TMR_BLK + 4, true))).toBe(0x608);
    expect(Number(v.getBigUint64(FADT.X_FIRMWARE_CTRL, true))).toBe(0);
    expect(fadt[FADT.INT_MODEL]).toBe(1);
    expect(buildFadt(board(false), 0, 64)[FADT.INT_MODEL]).toBe(0);
  });

  it('FACS is 64 bytes with version 1', () => {
    const facs = buildFacs();
    expect(String.fromCharCode(...facs.subarray(0, 4))).toBe('FACS');
    expect(facs.length).toBe(64);
    expect(facs[32]).toBe(1);
  });

  it('MADT: a local APIC per vCPU, the I/O APIC, overrides for IRQ 0 and the level IRQs, LINT1 NMI', () => {
    const b = board(true, 3);
    const madt = buildMadt(b);
    expect(byteSum(madt)).toBe(0);
    const v = new DataView(madt.buffer);
    expect(v.getUint32(36, true)).toBe(0xfee00000);
    expect(v.getUint32(40, true)).toBe(1);
    const entries = madtEntries(madt);
    const locals = entries.filter((e) => e[0] === 0);
    expect(locals.map((e) => [e[2], e[3], e[4]])).toEqual([[0, 0, 1], [1, 1, 1], [2, 2, 1]]);
    const io = entries.filter((e) => e[0] === 1);
    expect(io.length).toBe(1);
    expect(io[0][2]).toBe(b.ioApic!.id);
    expect(new DataView(io[0].slice().buffer).getUint32(4, true)).toBe(0xfec00000);
    const overrides = entries.filter((e) => e[0] === 2).map((e) => {
      const ev = new DataView(e.slice().buffer);
      return { irq: e[3], gsi: ev.getUint32(4, true), flags: ev.getUint16(8, true) };
    });
    expect(overrides).toEqual([
      { irq: 0, gsi: 2, flags: 0 },
      { irq: 5, gsi: 5, flags: INTI_LEVEL_HIGH },
      { irq: 9, gsi: 9, flags: INTI_LEVEL_HIGH },
      { irq: 10, gsi: 10, flags: INTI_LEVEL_HIGH },
      { irq: 11, gsi: 11, flags: INTI_LEVEL_HIGH },
    ]);
    const nmi = entries.filter((e) => e[0] === 4);
    expect(nmi.map((e) => [e[2], e[5]])).toEqual([[0xff, 1]]);
  });

  it('refuses a MADT or HPET table for a board without them, and tables for acpi=0', () => {
    expect(() => buildMadt(board(false))).toThrow(RangeError);
    expect(() => buildHpet(board(true))).toThrow(RangeError);
    expect(() => buildAcpiTables(describeBoard({ acpi: false, apic: true, vcpus: 1, ramBytesBelow4G: 1 << 28 }))).toThrow(RangeError);
  });

  it('RSDP revision 2 with both checksums correct', () => {
    const rsdp = buildRsdp(0x100, 0x200);
    expect(String.fromCharCode(...rsdp.subarray(0, 8))).toBe('RSD PTR ');
    expect(rsdp[15]).toBe(2);
    expect(byteSum(rsdp, 0, 20)).toBe(0);
    expect(byteSum(rsdp)).toBe(0);
    expect(new DataView(rsdp.buffer).getUint32(16, true)).toBe(0x100);
  });

  it('lays out FACS first (64-aligned), lists MADT and HPET only when present', () => {
    const withAll = buildAcpiTables(board(true, 1, true));
    expect(withAll.offsets.FACS).toBe(0);
    expect(Object.keys(withAll.offsets)).toEqual(['FACS', 'DSDT', 'FACP', 'APIC', 'HPET', 'RSDT', 'XSDT']);
    const rsdtAt = withAll.offsets.RSDT;
    const rsdt = withAll.tables.subarray(rsdtAt, withAll.offsets.XSDT);
    const v = new DataView(rsdt.slice().buffer);
    expect([v.getUint32(36, true), v.getUint32(40, true), v.getUint32(44, true)]).toEqual([withAll.offsets.FACP, withAll.offsets.APIC, withAll.offsets.HPET]);
    const picOnly = buildAcpiTables(board(false));
    expect(Object.keys(picOnly.offsets)).toEqual(['FACS', 'DSDT', 'FACP', 'RSDT', 'XSDT']);
    // Every pointer the loader patches lies inside the file; every table gets a checksum command.
    for (const c of withAll.commands) {
      if (c.command === 'add-pointer' && c.destFile === 'etc/acpi/tables') expect(c.offset + c.size).toBeLessThanOrEqual(withAll.tables.length);
    }
    const summed = withAll.commands.filter((c) => c.command === 'add-checksum' && c.file === 'etc/acpi/tables').length;
    expect(summed).toBe(6);
  });

  it.skipIf(!hasIasl)('FADT, MADT and HPET disassemble cleanly with iasl', () => {
    const b = board(true, 2, true);
    for (const [name, table] of [['facp', buildFadt(b, 0, 64)], ['apic', buildMadt(b)], ['hpet', buildHpet(b)]] as const) {
      const r = disassemble(table, name);
      expect(r.status, r.output).toBe(0);
      expect(problems(r.output)).toEqual([]);
      expect(r.dsl).not.toMatch(/Invalid|Incorrect|Unknown/i);
    }
    expect(disassemble(buildFadt(b, 0, 64), 'facp').dsl).toMatch(/Reset Register Supported \(V2\) : 1/);
    expect(disassemble(buildMadt(b), 'apic').dsl).toMatch(/Interrupt Source Override[\s\S]*Source : 00\s*\n.*Interrupt : 00000002/);
  });
});
