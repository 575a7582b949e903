import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openImagesNode } from '../../src/cli/open-images-node.ts';
import type { ResolvedMedia, ImageSource } from '../../src/config/media.ts';
import type { DiskDrive } from '../../src/config/domain-config.ts';
import { ImageError } from '../../src/storage/image-checks.ts';

// A 1.44 MB floppy and a 4-sector "CD" with a recognisable pattern, served with range support.
const floppy = new Uint8Array(1_474_560).map((_, i) => (i * 7) & 0xff);
const cd = new Uint8Array(2048 * 40).map((_, i) => (i >> 11) + 1);
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const body = req.url === '/floppy.img' ? floppy : req.url === '/cd.iso' ? cd : null;
    if (!body) return void res.writeHead(404).end();
    const range = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '');
    if (req.method === 'HEAD') return void res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' }).end();
    if (!range) return void res.writeHead(200, { 'content-length': body.length }).end(body);
    const [a, b] = [Number(range[1]), Math.min(Number(range[2]), body.length - 1)];
    res.writeHead(206, { 'content-range': `bytes ${a}-${b}/${body.length}`, 'content-length': b - a + 1 }).end(body.subarray(a, b + 1));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const cdDrive = { vdev: 'hdc', channel: 1, unit: 0, media: 'cdrom', mode: 'r' } as unknown as DiskDrive;
const media = (over: Partial<ResolvedMedia<ImageSource>>): ResolvedMedia<ImageSource> =>
  ({ disks: [], fda: null, fdb: null, ...over }) as ResolvedMedia<ImageSource>;

describe('openImagesNode with images named by URL', () => {
  it('reads a floppy image and a CD-ROM over HTTP', async () => {
    const { opened, close } = await openImagesNode(media({
      fda: { kind: 'url', url: `${base}/floppy.img` },
      disks: [{ drive: cdDrive, image: { kind: 'url', url: `${base}/cd.iso` } }],
    }));
    const slot = opened.ide[2];
    expect(slot?.kind).toBe('cdrom');
    const backend = slot?.kind === 'cdrom' ? slot.backend! : undefined;
    expect(backend?.size).toBe(cd.length);
    expect(Array.from(await backend!.read(2048 * 5, 4))).toEqual([6, 6, 6, 6]);
    expect(opened.floppies[0]).toBeDefined();
    await close();
  });

  it('names the URL when the server has no such image', async () => {
    const failing = openImagesNode(media({ disks: [{ drive: cdDrive, image: { kind: 'url', url: `${base}/missing.iso` } }] }));
    await expect(failing).rejects.toThrow(/404/);
  });

  it('refuses URL schemes it cannot read', async () => {
    const failing = openImagesNode(media({ fda: { kind: 'url', url: 'data:,abc' } }));
    await expect(failing).rejects.toThrow(ImageError);
  });
});
