import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gatewayOptionsFromArgs } from '../../src/cli/tftp-option-node.ts';

function tree() {
  const root = mkdtempSync(join(tmpdir(), 'webhvm-tftp-'));
  mkdirSync(join(root, 'boot'));
  writeFileSync(join(root, 'boot', 'vmlinuz'), 'kernel');
  writeFileSync(join(root, 'secret'), 'outside');
  writeFileSync(join(root, 'script.ipxe'), '#!ipxe\n');
  return root;
}

const text = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString() : undefined);

describe('gatewayOptionsFromArgs', () => {
  it('serves a directory and single files under their names, the first match winning', () => {
    const root = tree();
    const options = gatewayOptionsFromArgs([join(root, 'boot'), `boot.ipxe=${join(root, 'script.ipxe')}`, `vmlinuz=${join(root, 'secret')}`], 'boot.ipxe');
    const files = options.tftp as (path: string) => Uint8Array | undefined;
    expect(text(files('vmlinuz'))).toBe('kernel');
    expect(text(files('boot.ipxe'))).toBe('#!ipxe\n');
    expect(options.dhcp).toEqual({ bootFile: 'boot.ipxe' });
  });

  it('serves nothing outside the directory and nothing that is not a file', () => {
    const root = tree();
    const files = gatewayOptionsFromArgs([join(root, 'boot')], undefined).tftp as (path: string) => Uint8Array | undefined;
    expect(files('../secret')).toBeUndefined();
    expect(files('')).toBeUndefined();
    expect(files('.')).toBeUndefined();
    expect(files('missing')).toBeUndefined();
  });

  it('needs no options when there is no network boot', () => {
    expect(gatewayOptionsFromArgs([], undefined)).toEqual({});
  });

  it('says what is wrong before any VM starts', () => {
    const root = tree();
    expect(() => gatewayOptionsFromArgs([], 'boot.ipxe')).toThrow(/no --tftp option/);
    expect(() => gatewayOptionsFromArgs([join(root, 'nothing')], undefined)).toThrow(/not a directory/);
    expect(() => gatewayOptionsFromArgs([`x=${join(root, 'nothing')}`], undefined)).toThrow(/not a readable file/);
    expect(() => gatewayOptionsFromArgs([`../x=${join(root, 'secret')}`], undefined)).toThrow(/not a file name/);
    expect(() => gatewayOptionsFromArgs([root], 'missing.ipxe')).toThrow(/--boot-file missing.ipxe: not among/);
  });
});
