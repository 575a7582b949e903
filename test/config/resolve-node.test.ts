import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/diagnostics.ts';
import { resolveMedia } from '../../src/config/media.ts';
import { nodeMediaResolver, readDomainConfigFile } from '../../src/config/resolve-node.ts';
import type { MediaRequest } from '../../src/config/media.ts';

const request = (path: string): MediaRequest => ({ path, role: 'disk', key: 'disk', mode: 'w', source: { line: 1, column: 1 } });

describe('nodeMediaResolver', () => {
  let dir = '';
  let cfgPath = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'webhvm-config-'));
    await mkdir(join(dir, 'images'));
    await writeFile(join(dir, 'images', 'disk.img'), new Uint8Array(1024));
    await writeFile(join(dir, 'winXP128.img'), new Uint8Array(512));
    cfgPath = join(dir, 'guest.cfg');
    await writeFile(
      cfgPath,
      "name = 'xp'\nbuilder = 'hvm'\ndisk = [ 'file:images/disk.img,hda,w', 'file:/root/xenimages/winXP128.img,hdb,r' ]\n",
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('resolves relative paths against the config directory', async () => {
    expect(await nodeMediaResolver(cfgPath).resolve(request('images/disk.img'))).toEqual({
      kind: 'file', path: join(dir, 'images', 'disk.img'), size: 1024,
    });
  });

  it('finds an absolute Xen host path by base name next to the config', async () => {
    expect(await nodeMediaResolver(cfgPath).resolve(request('/root/xenimages/winXP128.img'))).toEqual({
      kind: 'file', path: join(dir, 'winXP128.img'), size: 512,
    });
  });

  it('uses an absolute path that exists', async () => {
    const abs = join(dir, 'images', 'disk.img');
    expect(await nodeMediaResolver('/elsewhere/x.cfg').resolve(request(abs))).toMatchObject({ path: abs });
  });

  it('says where it looked when the image is missing, and refuses directories', async () => {
    await expect(nodeMediaResolver(cfgPath).resolve(request('/srv/none.img'))).rejects.toThrow(
      `not found (looked for /srv/none.img and ${join(dir, 'none.img')})`,
    );
    await expect(nodeMediaResolver(cfgPath).resolve(request('images'))).rejects.toThrow(/is not a regular file/);
  });

  it('reads a config file and resolves its media', async () => {
    const { config } = await readDomainConfigFile(cfgPath);
    const media = await resolveMedia(config, nodeMediaResolver(cfgPath), { fileName: 'guest.cfg' });
    expect(media.disks.map((d) => d.image)).toEqual([
      { kind: 'file', path: join(dir, 'images', 'disk.img'), size: 1024 },
      { kind: 'file', path: join(dir, 'winXP128.img'), size: 512 },
    ]);
  });

  it('names the file by its base name in errors', async () => {
    const bad = join(dir, 'bad.cfg');
    await writeFile(bad, "name = 'x'\nbuilder = 'hvm'\nvcpus = 0\n");
    await expect(readDomainConfigFile(bad)).rejects.toThrow(/^bad\.cfg:3:9: vcpus:/);
    await expect(readDomainConfigFile(bad)).rejects.toBeInstanceOf(ConfigError);
  });
});
