/**
 * NODE-ONLY: open the images a configuration names, check them, and wrap writable disks in a
 * copy-on-write overlay (the user's files are opened read-only and never written). Images named
 * by http(s) URL are read on demand with range requests.
 */
import { readFile } from 'node:fs/promises';
import type { ImageSource, ResolvedMedia } from '../config/media.ts';
import { NodeFileBackend } from '../storage/node-file-backend.ts';
import { CowOverlay } from '../storage/cow-overlay.ts';
import { FloppyImage } from '../storage/floppy-image.ts';
import { checkCdImage, checkDiskImage, checkFloppyImage, ImageError } from '../storage/image-checks.ts';
import type { BlockBackend } from '../storage/block-backend.ts';
import { HttpRangeBackend } from '../storage/http-range-backend.ts';
import type { OpenedMedia } from '../machine/setup-from-config.ts';

async function openFile(source: ImageSource, what: string): Promise<BlockBackend> {
  if (source.kind === 'url') {
    if (!/^https?:/i.test(source.url)) throw new ImageError(what, `only http(s) URLs and local files are supported (${source.url})`);
    return HttpRangeBackend.open(source.url);
  }
  if (source.kind === 'blob') throw new ImageError(what, 'a browser file cannot be opened by the command-line runner');
  return NodeFileBackend.open(source.path);
}

function describe(source: ImageSource): string {
  return source.kind === 'file' ? source.path : source.kind === 'url' ? source.url : source.name;
}

export async function openImagesNode(media: ResolvedMedia<ImageSource>): Promise<{ opened: OpenedMedia; close: () => Promise<void> }> {
  const files: NodeFileBackend[] = [];
  const opened: OpenedMedia = { ide: [undefined, undefined, undefined, undefined], floppies: [undefined, undefined] };
  try {
    for (const { drive, image } of media.disks) {
      const what = drive.vdev;
      const index = drive.channel * 2 + drive.unit;
      if (drive.media === 'cdrom') {
        let backend: BlockBackend | undefined;
        if (image) {
          const file = await openFile(image, what);
          if (file instanceof NodeFileBackend) files.push(file);
          await checkCdImage(`${what} (${describe(image)})`, file);
          backend = file;
        }
        opened.ide[index] = { kind: 'cdrom', backend };
      } else {
        if (!image) throw new ImageError(what, 'a hard disk needs an image');
        const file = await openFile(image, what);
        if (file instanceof NodeFileBackend) files.push(file);
        checkDiskImage(`${what} (${describe(image)})`, file);
        opened.ide[index] = { kind: 'disk', backend: drive.mode === 'w' ? new CowOverlay(file) : file };
      }
    }
    const floppies: [ImageSource | null, number][] = [[media.fda, 0], [media.fdb, 1]];
    for (const [source, unit] of floppies) {
      if (!source) continue;
      const what = `fd${'ab'[unit]} (${describe(source)})`;
      let bytes: Uint8Array;
      if (source.kind === 'file') {
        bytes = new Uint8Array(await readFile(source.path));
        checkFloppyImage(what, bytes.length);
      } else {
        const remote = await openFile(source, what);
        checkFloppyImage(what, remote.size);
        bytes = await remote.read(0, remote.size);
      }
      opened.floppies[unit] = new FloppyImage(bytes);
    }
  } catch (e) {
    await Promise.all(files.map((f) => f.close()));
    throw e;
  }
  return { opened, close: async () => void (await Promise.all(files.map((f) => f.close()))) };
}
