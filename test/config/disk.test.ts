import { describe, expect, it } from 'vitest';
import { type EntryReporter, parseDiskEntry } from '../../src/config/disk.ts';

const at = { line: 1, column: 1 };
function run(spec: string) {
  const reports: Array<[string, string, number | undefined]> = [];
  const report: EntryReporter = (severity, message, offset) => reports.push([severity, message, offset]);
  return { entry: parseDiskEntry(spec, 0, at, report), reports };
}

describe('parseDiskEntry', () => {
  it.each([
    ['file:/x.img,hda,w', { type: 'file', path: '/x.img', vdev: 'hda', media: 'disk', mode: 'w' }],
    ['phy:/dev/vg01/winxp0,hdb,r', { type: 'phy', path: '/dev/vg01/winxp0', vdev: 'hdb', channel: 0, unit: 1, mode: 'r' }],
    ['tap:aio:/y.img,hdd,w', { type: 'tap:aio', vdev: 'hdd', channel: 1, unit: 1 }],
    ['file:/c.iso,hdc:cdrom,r', { vdev: 'hdc', media: 'cdrom', mode: 'r' }],
    ['phy:/dev/loop0,ioemu:hdc:cdrom,r', { type: 'phy', vdev: 'hdc', media: 'cdrom' }],
    ['/plain.img,ioemu:hda,w', { type: 'file', path: '/plain.img', vdev: 'hda' }],
    [' file:/s.img , hda , rw ', { path: '/s.img', vdev: 'hda', mode: 'w' }],
    ['file:/s.img,HDA:disk,ro', { vdev: 'hda', media: 'disk', mode: 'r' }],
    ['file:https://example.org/d.img,hda,r', { path: 'https://example.org/d.img' }],
  ])('%s', (spec, expected) => {
    const r = run(spec);
    expect(r.reports).toEqual([]);
    expect(r.entry).toMatchObject({ empty: false, ...expected });
  });

  it('keeps an empty entry as a slot', () => {
    expect(run('').entry).toEqual({ empty: true, index: 0, source: at });
  });

  it('reads a CD-ROM with no path as a drive with no disc', () => {
    expect(run(',hdc:cdrom,r').entry).toMatchObject({ path: null, media: 'cdrom' });
    expect(run('phy:,hdc:cdrom,r').entry).toMatchObject({ path: null, type: 'phy' });
  });

  it('reads xl keyword entries', () => {
    const r = run('format=raw, vdev=hdc, access=ro, devtype=cdrom, target=/isos/a,b.iso');
    expect(r.reports).toEqual([]);
    expect(r.entry).toMatchObject({ path: '/isos/a,b.iso', vdev: 'hdc', media: 'cdrom', mode: 'r' });
    expect(run('vdev=hda, target=/d.img').entry).toMatchObject({ mode: 'w', media: 'disk' });
    expect(run('vdev=hdc, devtype=cdrom, target=/c.iso').entry).toMatchObject({ mode: 'r' });
  });

  it('warns that a CD-ROM is read-only', () => {
    const r = run('file:/c.iso,hdc:cdrom,w');
    expect(r.entry).toMatchObject({ mode: 'r' });
    expect(r.reports).toEqual([['warning', 'hdc is a CD-ROM: mode w ignored, the disc is read-only', 22]]);
  });

  it('warns that qcow images are read as raw', () => {
    expect(run('tap:qcow:/q.img,hda,w').reports[0]![0]).toBe('warning');
  });

  it.each([
    ['file:/x.img,hda', "has 2 fields: expected TYPE:PATH,VDEV[:cdrom],MODE", 0],
    ['file:/x.img,hde,w', "unknown vdev 'hde'", 12],
    ['file:/x.img,sda,w', 'WebHVM emulates IDE only', 12],
    ['file:/x.img,hda,x', "mode 'x': expected r (read-only) or w (read-write)", 16],
    ['nbd:host:1,hda,w', "unknown disk type 'nbd:host:'", 0],
    ['file:,hda,w', 'hda is a hard disk with no image', 0],
    ['vdev=hda, size=3, target=/x', "unknown disk setting 'size'", 10],
    ['access=rw, target=/x', 'missing vdev=', 0],
    ['vdev=hdc, devtype=floppy, target=/x', 'devtype=floppy: expected cdrom or disk', 18],
  ])('refuses or warns about %s', (spec, message, offset) => {
    const r = run(spec);
    const report = r.reports.find(([, m]) => m.includes(message));
    expect(report, JSON.stringify(r.reports)).toBeDefined();
    expect(report![2]).toBe(offset);
  });
});
