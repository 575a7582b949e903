import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/diagnostics.ts';
import { type MediaRequest, baseName, resolveMedia } from '../../src/config/media.ts';
import { cfg, parse } from './helpers.ts';

const config = parse(
  cfg(
    "disk = [ 'file:/img/a.img,hda,w', '', 'phy:,hdc:cdrom,r', 'file:/isos/b.iso,hdd:cdrom,r' ]",
    "fda = '/f/boot.img'",
    "kernel = '/boot/vmlinuz'",
    "ramdisk = '/boot/initrd'",
  ),
).config;

describe('resolveMedia', () => {
  it('asks the resolver for every image and keeps the drives in order', async () => {
    const asked: MediaRequest[] = [];
    const media = await resolveMedia(config, {
      resolve(request) {
        asked.push(request);
        return `<${request.path}>`;
      },
    });
    expect(media.disks.map((d) => [d.drive.vdev, d.image])).toEqual([
      ['hda', '</img/a.img>'],
      ['hdc', null],
      ['hdd', '</isos/b.iso>'],
    ]);
    expect(media).toMatchObject({ fda: '</f/boot.img>', fdb: null, kernel: '</boot/vmlinuz>', ramdisk: '</boot/initrd>' });
    expect(asked.map((r) => [r.role, r.key, r.mode])).toEqual(
      expect.arrayContaining([
        ['disk', 'disk', 'w'], ['cdrom', 'disk', 'r'], ['floppy', 'fda', 'w'], ['kernel', 'kernel', 'r'], ['ramdisk', 'ramdisk', 'r'],
      ]),
    );
    expect(asked).toHaveLength(5);
  });

  it('reports every path that cannot be resolved, at its entry', async () => {
    const failing = resolveMedia(
      config,
      {
        async resolve(request) {
          if (request.path.endsWith('.img') || request.path.endsWith('.iso')) throw new Error('not here');
          return request.path;
        },
      },
      { fileName: 'guest.cfg' },
    );
    await expect(failing).rejects.toBeInstanceOf(ConfigError);
    await expect(failing).rejects.toThrow(
      [
        "guest.cfg:2:10: disk: cannot open '/img/a.img': not here",
        "guest.cfg:2:59: disk: cannot open '/isos/b.iso': not here",
        "guest.cfg:3:7: fda: cannot open '/f/boot.img': not here",
      ].join('\n'),
    );
  });
});

describe('baseName', () => {
  it('takes the last part of Unix and Windows paths', () => {
    expect(baseName('/root/xenimages/winXP128.img')).toBe('winXP128.img');
    expect(baseName('C:\\VMs\\disk.img')).toBe('disk.img');
    expect(baseName('disk.img')).toBe('disk.img');
  });
});
