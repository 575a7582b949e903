import { describe, expect, it } from 'vitest';
import { byteSum } from '../../../src/firmware/acpi/checksum.ts';
import { buildDsdt, processorName } from '../../../src/firmware/acpi/dsdt.ts';
import { parseTableHeader } from '../../../src/firmware/acpi/table-header.ts';
import { describeBoard } from '../../../src/firmware/board-description.ts';
import { disassemble, hasIasl, problems, recompile } from '../iasl.ts';

const board = (apic: boolean, vcpus = 1, hpet = false) => describeBoard({ acpi: true, apic, vcpus, ramBytesBelow4G: 1 << 30, hpet });

function contains(haystack: Uint8Array, needle: number[]): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe('DSDT', () => {
  it('is a revision-1 table with a correct checksum', () => {
    const dsdt = buildDsdt(board(true, 2));
    const h = parseTableHeader(dsdt);
    expect(h.signature).toBe('DSDT');
    expect(h.revision).toBe(1);
    expect(h.length).toBe(dsdt.length);
    expect(byteSum(dsdt)).toBe(0);
  });

  it('holds the EISA IDs SeaBIOS looks for (PS/2 keyboard PNP0303) in the form it searches', () => {
    const dsdt = buildDsdt(board(false));
    expect(contains(dsdt, [0x0c, 0x41, 0xd0, 0x03, 0x03])).toBe(true);
    expect(contains(dsdt, [0x0c, 0x41, 0xd0, 0x0a, 0x03])).toBe(true); // PNP0A03
  });

  it('has a _PIC method only when the board has an I/O APIC', () => {
    const picName = [0x5f, 0x50, 0x49, 0x43]; // "_PIC"
    expect(contains(buildDsdt(board(true)), picName)).toBe(true);
    expect(contains(buildDsdt(board(false)), picName)).toBe(false);
  });

  it('names processors CP00, CP01, ...', () => {
    expect(processorName(0)).toBe('CP00');
    expect(processorName(10)).toBe('CP0A');
  });

  it.skipIf(!hasIasl)('disassembles without errors and shows the expected objects (APIC board, 2 CPUs, HPET)', () => {
    const result = disassemble(buildDsdt(board(true, 2, true)), 'dsdt');
    expect(result.status, result.output).toBe(0);
    expect(problems(result.output)).toEqual([]);
    const dsl = result.dsl;
    expect(dsl).toMatch(/Name \(\\_S5, Package \(0x04\)/);
    expect(dsl).toContain('Method (\\_PIC, 1');
    expect(dsl).toContain('Processor (CP00, 0x00, 0x00000000, 0x00)');
    expect(dsl).toContain('Processor (CP01, 0x01, 0x00000000, 0x00)');
    expect(dsl).not.toContain('CP02');
    expect(dsl).toContain('EisaId ("PNP0A03")');
    expect(dsl).toContain('Name (PRTA, Package (0x7C)');
    expect(dsl).toContain('Name (PRTP, Package (0x7C)');
    expect(dsl).toMatch(/If \(\\PICF\)\s*\{\s*Return \(PRTA\)/);
    for (const link of ['LNKA', 'LNKB', 'LNKC', 'LNKD']) {
      const body = dsl.slice(dsl.indexOf(`Device (${link})`), dsl.indexOf(`Device (${link})`) + 2500);
      for (const m of ['_STA', '_DIS', '_CRS', '_SRS']) expect(body).toContain(`Method (${m}`);
      expect(body).toContain('Name (_PRS');
    }
    expect(dsl).toContain('Device (LNKS)');
    expect(dsl).toContain('OperationRegion (PIRQ, PCI_Config, 0x60, 0x04)');
    for (const hid of ['PNP0000', 'PNP0100', 'PNP0B00', 'PNP0303', 'PNP0F13', 'PNP0501', 'PNP0700', 'PNP0800', 'PNP0C04', 'PNP0103', 'PNP0C02']) {
      expect(dsl).toContain(`EisaId ("${hid}")`);
    }
    expect(dsl).toMatch(/0x03F8,\s*\/\/ Range Minimum/);
    expect(dsl).toMatch(/IRQNoFlags \(\)\s*\{4\}/);
    expect(dsl).toMatch(/DMA \(Compatibility, NotBusMaster, Transfer8, \)\s*\{2\}/);
    // The PCI window starts above 1 GiB of RAM and ends under the I/O APIC.
    expect(dsl).toMatch(/0xE0000000,\s*\/\/ Range Minimum/);
    expect(dsl).toMatch(/0xFEBFFFFF,\s*\/\/ Range Maximum/);
    // APIC routing: slot 3 INTA# is PIRQD (3 + 0) -> GSI 19; slot 1 INTA# is the SCI -> GSI 9.
    expect(dsl).toMatch(/0x0003FFFF,\s*Zero,\s*Zero,\s*0x13/);
    expect(dsl).toMatch(/0x0001FFFF,\s*Zero,\s*Zero,\s*0x09/);
    expect(dsl).toMatch(/0x0003FFFF,\s*Zero,\s*\\_SB\.LNKD,\s*Zero/);
    expect(dsl).toMatch(/0x0001FFFF,\s*Zero,\s*\\_SB\.LNKS,\s*Zero/);
  });

  it.skipIf(!hasIasl)('without an I/O APIC, _PRT offers link devices only and the disassembly recompiles', () => {
    const result = disassemble(buildDsdt(board(false)), 'dsdt');
    expect(result.status, result.output).toBe(0);
    expect(result.dsl).not.toContain('PRTA');
    expect(result.dsl).not.toContain('_PIC');
    expect(result.dsl).toMatch(/Method \(_PRT, 0, NotSerialized\)[^}]*Return \(PRTP\)/);
    const compiled = recompile(result.dsl);
    expect(compiled.output).toMatch(/Compilation successful\.\s+0 Errors/);
  });
});
