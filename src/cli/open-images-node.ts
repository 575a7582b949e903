/**
 * NODE-ONLY: open the images a configuration names, check them, and wrap writable disks in a
 * copy-on-write overlay (the user's files are opened read-only and never written).
 */
import { readFile } from 'node:fs/promises';
import type { ImageSource, ResolvedMedia } from '../config/media.ts';
import { NodeFileBackend } from '../storage/node-file-backend.ts';
import { CowOverlay } from '../storage/cow-overlay.ts';
import { FloppyImage } from '../storage/floppy-image.ts';
import { checkCdImage, checkDiskImage, checkFloppyImage, ImageError } from '../storage/image-checks.ts';
import type { BlockBackend } from '../storage/block-backend.ts';
import type { OpenedMedia } from '../machine/setup-from-config.ts';

async function openFile(source: ImageSource, what: string): Promise<NodeFileBackend> {
  if (source.kind !== 'file') throw new ImageError(what, 'only local image files are supported by the command-line runner');
  return NodeFileBackend.open(source.path);
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
          files.push(file);
          await checkCdImage(`${what} (${image.kind === 'file' ? image.path : ''})`, file);
          backend = file;
        }
        opened.ide[index] = { kind: 'cdrom', backend };
      } else {
        if (!image) throw new ImageError(what, 'a hard disk needs an image');
        const file = await openFile(image, what);
        files.push(file);
        checkDiskImage(`${what} (${image.kind === 'file' ? image.path : ''})`, file);
        opened.ide[index] = { kind: 'disk', backend: drive.mode === 'w' ? new CowOverlay(file) : file };
      }
    }
    const floppies: [ImageSource | null, number][] = [[media.fda, 0], [media.fdb, 1]];
    for (const [source, unit] of floppies) {
      if (!source) continue;
      if (source.kind !== 'file') throw new ImageError(`fd${'ab'[unit]}`, 'only local image files are supported');
      const bytes = new Uint8Array(await readFile(source.path));
      checkFloppyImage(`fd${'ab'[unit]} (${source.path})`, bytes.length);
      opened.floppies[unit] = new FloppyImage(bytes);
    }
  } catch (e) {
    await Promise.all(files.map((f) => f.close()));
    throw e;
  }
  return { opened, close: async () => void (await Promise.all(files.map((f) => f.close()))) };
}
