import { describe, expect, it } from 'vitest';
import type { MediaRequest } from '../../src/config/media.ts';
import { browserMediaResolver } from '../../src/config/resolve-browser.ts';

const request = (path: string): MediaRequest => ({ path, role: 'disk', key: 'disk', mode: 'w', source: { line: 1, column: 1 } });

describe('browserMediaResolver', () => {
  const disk = new File([new Uint8Array(512)], 'winXP128.img');
  const iso = new File([new Uint8Array(2048)], 'EN_WINXP.ISO');

  it('matches a Xen host path to a dropped file by base name', () => {
    const r = browserMediaResolver({ files: [disk, iso] });
    expect(r.resolve(request('/root/xenimages/winXP128.img'))).toEqual({ kind: 'blob', blob: disk, name: 'winXP128.img' });
  });

  it('falls back to a case-insensitive match', () => {
    const r = browserMediaResolver({ files: [disk, iso] });
    expect(r.resolve(request('/isos/en_winxp.iso'))).toEqual({ kind: 'blob', blob: iso, name: 'EN_WINXP.ISO' });
  });

  it('accepts blobs by name', () => {
    const blob = new Blob([new Uint8Array(4)]);
    expect(browserMediaResolver({ files: new Map([['a.img', blob]]) }).resolve(request('a.img'))).toMatchObject({ blob });
  });

  it('passes URLs through and resolves relative paths against the config URL', () => {
    const r = browserMediaResolver({ baseUrl: 'https://example.org/vms/xp/guest.cfg' });
    expect(r.resolve(request('https://cdn.example.org/x.iso'))).toEqual({ kind: 'url', url: 'https://cdn.example.org/x.iso' });
    expect(r.resolve(request('images/disk.img'))).toEqual({ kind: 'url', url: 'https://example.org/vms/xp/images/disk.img' });
  });

  it('asks for the missing file by name', () => {
    expect(() => browserMediaResolver({ files: [iso] }).resolve(request('/root/a.img'))).toThrow('drop a file named a.img (dropped: EN_WINXP.ISO)');
    expect(() => browserMediaResolver({ baseUrl: 'https://e.org/' }).resolve(request('/root/a.img'))).toThrow('no files were dropped');
  });
});
