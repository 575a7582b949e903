import { describe, expect, it } from 'vitest';
import {
  arg, buffer, concat, device, dword, eisaId, eisaIdValue, field, FieldAccess, FieldUpdate, integer, method, name, nameSeg,
  nameString, packageOf, pkgLength, processor, scope, string,
} from '../../../src/firmware/acpi/aml-encoder.ts';
import { acpiTable } from '../../../src/firmware/acpi/table-header.ts';
import { disassemble, hasIasl } from '../iasl.ts';

const hex = (a: Uint8Array | number[]) => [...a].map((b) => b.toString(16).padStart(2, '0')).join(' ');

describe('AML encoder', () => {
  it('encodes PkgLength in 1-4 bytes, counting itself', () => {
    expect(pkgLength(0)).toEqual([0x01]);
    expect(pkgLength(62)).toEqual([0x3f]);
    // 63 content bytes + 2 length bytes = 65 = 0x41: lead 0x41 (1 extra byte, low nibble 1), then 0x04.
    expect(pkgLength(63)).toEqual([0x41, 0x04]);
    expect(pkgLength(0xffd)).toEqual([0x4f, 0xff]);
    expect(pkgLength(0xffe)).toEqual([0x81, 0x00, 0x01]);
    expect(() => pkgLength(0x10000000)).toThrow(RangeError);
  });

  it('encodes name segments and paths', () => {
    expect(nameSeg('ISA')).toEqual([0x49, 0x53, 0x41, 0x5f]);
    expect(hex(nameString('\\_SB.PCI0'))).toBe('5c 2e 5f 53 42 5f 50 43 49 30');
    expect(hex(nameString('^LNK'))).toBe('5e 4c 4e 4b 5f');
    expect(nameString('\\_SB.PCI0.ISA.PRQA')[1]).toBe(0x2f);
    expect(nameString('\\_SB.PCI0.ISA.PRQA')[2]).toBe(4);
    expect(hex(nameString('\\'))).toBe('5c 00');
    expect(() => nameSeg('TOOLONG')).toThrow(RangeError);
    expect(() => nameSeg('1ABC')).toThrow(RangeError);
    expect(() => nameSeg('ab')).toThrow(RangeError);
  });

  it('picks the shortest integer encoding', () => {
    expect(hex(integer(0))).toBe('00');
    expect(hex(integer(1))).toBe('01');
    expect(hex(integer(0x80))).toBe('0a 80');
    expect(hex(integer(0x1234))).toBe('0b 34 12');
    expect(hex(integer(0x12345678))).toBe('0c 78 56 34 12');
    expect(hex(dword(1))).toBe('0c 01 00 00 00');
    expect(() => integer(-1)).toThrow(RangeError);
    expect(() => integer(2 ** 32)).toThrow(RangeError);
  });

  it('compresses EISA IDs as ASL does (and as SeaBIOS searches for them)', () => {
    expect(eisaIdValue('PNP0A03')).toBe(0x030ad041);
    expect(hex(eisaId('PNP0303'))).toBe('0c 41 d0 03 03');
    expect(eisaIdValue('PNP0C0F')).toBe(0x0f0cd041);
    expect(() => eisaId('pnp0a03')).toThrow(RangeError);
  });

  it('encodes strings, buffers, packages, methods and fields', () => {
    expect(hex(string('AB'))).toBe('0d 41 42 00');
    expect(() => string('é')).toThrow(RangeError);
    expect(hex(buffer([1, 2]))).toBe('11 05 0a 02 01 02');
    expect(hex(packageOf(integer(0), integer(0)))).toBe('12 04 02 00 00');
    expect(hex(method('_SRS', 1, true))).toBe('14 06 5f 53 52 53 09');
    expect(() => method('_SRS', 8, false)).toThrow(RangeError);
    expect(() => arg(7)).toThrow(RangeError);
    expect(hex(field('PIRQ', FieldAccess.ByteAcc, false, FieldUpdate.Preserve, [{ name: 'PRQA', bits: 8 }, { bits: 8 }])))
      .toBe('5b 81 0d 50 49 52 51 01 50 52 51 41 08 00 08');
    expect(hex(processor('CP00', 0, 0, 0))).toBe('5b 83 0b 43 50 30 30 00 00 00 00 00 00');
  });

  it.skipIf(!hasIasl)('produces AML that iasl disassembles back to the same objects', () => {
    const aml = concat(
      name('\\PICF', integer(0)),
      scope('\\_SB', device('DEV0', name('_HID', eisaId('PNP0C02')), name('_UID', integer(7)), name('BIG', buffer(new Array(300).fill(0xaa))))),
    );
    const result = disassemble(acpiTable('DSDT', 1, aml), 'dsdt');
    expect(result.status, result.output).toBe(0);
    expect(result.dsl).toContain('Device (DEV0)');
    expect(result.dsl).toContain('EisaId ("PNP0C02")');
    expect(result.dsl).toMatch(/Name \(_UID, 0x07\)/);
    expect(result.dsl).toMatch(/Name \(BIG, Buffer \(0x012C\)/);
  });
});
