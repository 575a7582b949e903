import { describe, expect, it } from 'vitest';
import type { EntryReporter } from '../../src/config/disk.ts';
import { fnv1a32, generateMac, parseVifEntry } from '../../src/config/vif.ts';

const at = { line: 1, column: 1 };
function run(spec: string, name = 'winxp', index = 0) {
  const reports: Array<[string, string, number | undefined]> = [];
  const report: EntryReporter = (severity, message, offset) => reports.push([severity, message, offset]);
  return { nic: parseVifEntry(spec, index, name, at, report), reports };
}

describe('generateMac', () => {
  it('is deterministic, in 00:16:3e, and differs per name and index', () => {
    expect(generateMac('winxp', 0)).toBe(generateMac('winxp', 0));
    expect(generateMac('winxp', 0)).toMatch(/^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$/);
    expect(generateMac('winxp', 0)).not.toBe(generateMac('winxp', 1));
    expect(generateMac('winxp', 0)).not.toBe(generateMac('hal', 0));
  });
  it('uses FNV-1a (known vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    // Fixed output: a change of hash would change every generated MAC, and guests notice.
    expect(generateMac('winxp', 0)).toBe('00:16:3e:25:6e:ac');
  });
});

describe('parseVifEntry', () => {
  it('reads the classic entries', () => {
    expect(run('type=ioemu, bridge=xenbr0, mac=00:16:3e:7e:f3:15, model=rtl8139').nic).toMatchObject({
      mac: '00:16:3e:7e:f3:15', macGenerated: false, bridge: 'xenbr0', model: 'rtl8139', type: 'ioemu',
    });
    expect(run('bridge=xenbr0').nic).toMatchObject({ mac: generateMac('winxp', 0), macGenerated: true });
    expect(run('').nic).toMatchObject({ bridge: 'xenbr0', model: 'rtl8139', type: 'ioemu' });
    expect(run('mac=0:16:3e:a:B:c').nic!.mac).toBe('00:16:3e:0a:0b:0c');
    expect(run('model=RTL8139').reports).toEqual([]);
  });
  it('refuses malformed and multicast MACs', () => {
    expect(run('mac=00:16:3e:7e:f3').reports[0]).toEqual([
      'error', "mac '00:16:3e:7e:f3': expected six hexadecimal bytes separated by colons, such as 00:16:3e:7e:f3:15", 4,
    ]);
    expect(run('mac=01:00:5e:00:00:01').reports[0]![1]).toMatch(/multicast/);
    expect(run('mac=zz:16:3e:7e:f3:15').nic).toBeUndefined();
  });
  it('refuses other models and says only rtl8139 is supported', () => {
    const r = run('bridge=xenbr0, model=ne2k_pci');
    expect(r.nic).toBeUndefined();
    expect(r.reports).toEqual([['error', "model 'ne2k_pci': WebHVM does not emulate the ne2k_pci yet; only rtl8139 is supported now (the default: leave model out)", 21]]);
    expect(run('model=foo').reports[0]![1]).toMatch(/'foo' is not a network card WebHVM knows; only rtl8139 is supported/);
  });
  it('warns that type=vif gets an emulated card', () => {
    const r = run('type=vif');
    expect(r.nic).toMatchObject({ type: 'vif', model: 'rtl8139' });
    expect(r.reports[0]![0]).toBe('warning');
    expect(run('type=pv').reports[0]![0]).toBe('error');
  });
  it('notes Xen host-side settings and warns about unknown ones', () => {
    expect(run('script=vif-bridge, ip=10.0.0.2').reports.map((x) => x[0])).toEqual(['note', 'note']);
    expect(run('colour=blue').reports).toEqual([['warning', "unknown vif setting 'colour': ignored", 0]]);
    expect(run('bridge').reports[0]![0]).toBe('error');
    expect(run('bridge=').reports[0]![0]).toBe('error');
  });
});
