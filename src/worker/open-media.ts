/**
 * Opens the images a configuration names in the browser worker: dropped Files/Blobs are read
 * lazily with Blob.slice (a 4 GiB image is never read whole), URLs with HTTP range requests and a
 * block cache (whole when the server has no ranges). Every image
 * is checked before the VM starts; writable disks get a copy-on-write overlay (kept in this
 * browser, disk-overlays.ts), so the user's file is never written. Floppies (at most 2.88 MB)
 * are read into memory.
 */
import type { ImageSource, ResolvedMedia } from '../config/media.ts';
import type { OpenedMedia } from '../machine/setup-from-config.ts';
import type { BlockBackend } from '../storage/block-backend.ts';
import { BlobBackend } from '../storage/blob-backend.ts';
import { CowOverlay } from '../storage/cow-overlay.ts';
import { FloppyImage } from '../storage/floppy-image.ts';
import { HttpRangeBackend } from '../storage/http-range-backend.ts';
import { checkCdImage, checkDiskImage, checkFloppyImage, ImageError } from '../storage/image-checks.ts';
import { CountingBackend, type BlockCounters } from './counting-backend.ts';
import { CountingOverlay, type OverlayDisk } from './disk-overlays.ts';

/** A read-only backend for an image source (no overlay, no checks). */
export async function openSource(source: ImageSource, what: string): Promise<BlockBackend> {
  switch (source.kind) {
    case 'blob': return new BlobBackend(source.blob);
    case 'url': return HttpRangeBackend.open(source.url);
    default: throw new ImageError(what, 'a path on the host cannot be opened in the browser: drop the file instead');
  }
}

function describe(source: ImageSource): string {
  return source.kind === 'blob' ? source.name : source.kind === 'url' ? source.url : source.path;
}

/** Open and check a CD image for a drive. */
export async function openCdImage(source: ImageSource, what: string, counters: BlockCounters): Promise<BlockBackend> {
  const backend = await openSource(source, what);
  await checkCdImage(`${what} (${describe(source)})`, backend);
  return new CountingBackend(backend, counters);
}

/** Makes the copy-on-write overlay of a writable disk (disk-overlays.ts keeps it in this browser). */
export type OverlayFactory = (vdev: string, base: BlockBackend, source: ImageSource) => Promise<OverlayDisk>;

/** Open and check a hard-disk image; `writable` puts a copy-on-write overlay over it (in memory unless `overlayFor` says otherwise). */
export async function openDiskImage(source: ImageSource, what: string, writable: boolean, counters: BlockCounters, overlayFor?: OverlayFactory): Promise<BlockBackend> {
  const backend = await openSource(source, what);
  checkDiskImage(`${what} (${describe(source)})`, backend);
  if (!writable) return new CountingBackend(backend, counters);
  return new CountingOverlay(overlayFor ? await overlayFor(what, backend, source) : new CowOverlay(backend), counters);
}

export async function openImagesBrowser(media: ResolvedMedia<ImageSource>, counters: BlockCounters, overlayFor?: OverlayFactory): Promise<OpenedMedia> {
  const opened: OpenedMedia = { ide: [undefined, undefined, undefined, undefined], floppies: [undefined, undefined] };
  for (const { drive, image } of media.disks) {
    const index = drive.channel * 2 + drive.unit;
    if (drive.media === 'cdrom') {
      opened.ide[index] = { kind: 'cdrom', backend: image ? await openCdImage(image, drive.vdev, counters) : undefined };
    } else {
      if (!image) throw new ImageError(drive.vdev, 'a hard disk needs an image');
      opened.ide[index] = { kind: 'disk', backend: await openDiskImage(image, drive.vdev, drive.mode === 'w', counters, overlayFor) };
    }
  }
  const floppies: [ImageSource | null, 0 | 1][] = [[media.fda, 0], [media.fdb, 1]];
  for (const [source, unit] of floppies) {
    if (!source) continue;
    const what = `fd${'ab'[unit]}`;
    const backend = await openSource(source, what);
    checkFloppyImage(`${what} (${describe(source)})`, backend.size);
    opened.floppies[unit] = new FloppyImage(await backend.read(0, backend.size));
  }
  return opened;
}
