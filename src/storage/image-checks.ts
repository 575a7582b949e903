/**
 * Checks of a user's image before the VM starts, so that a wrong or damaged file is reported
 * with a clear message instead of failing inside the guest.
 */
import type { BlockBackend } from './block-backend.ts';
import { FLOPPY_IMAGE_SIZES, floppyGeometry } from '../devices/floppy-controller.ts';

export class ImageError extends Error {
  constructor(what: string, message: string) {
    super(`${what}: ${message}`);
    this.name = 'ImageError';
  }
}

const ISO_SECTOR = 2048;

/** A CD image: non-empty, and as long as its ISO 9660 volume says it is (a truncated download is refused). */
export async function checkCdImage(what: string, image: BlockBackend): Promise<void> {
  if (image.size === 0) throw new ImageError(what, 'the CD image is empty');
  if (image.size < 17 * ISO_SECTOR) return; // too small for ISO 9660: some other disc format
  const pvd = await image.read(16 * ISO_SECTOR, ISO_SECTOR);
  const isIso = pvd[0] === 1 && String.fromCharCode(...pvd.subarray(1, 6)) === 'CD001';
  if (!isIso) return;
  const blocks = pvd[80] | (pvd[81] << 8) | (pvd[82] << 16) | (pvd[83] * 0x1000000);
  const blockSize = pvd[128] | (pvd[129] << 8);
  const declared = blocks * (blockSize || ISO_SECTOR);
  if (declared > image.size) {
    throw new ImageError(what, `the ISO image is truncated: its volume is ${declared} bytes but the file has ${image.size}`);
  }
}

/** A hard-disk image: non-empty; a partial last sector cannot be addressed. */
export function checkDiskImage(what: string, image: BlockBackend): void {
  if (image.size === 0) throw new ImageError(what, 'the disk image is empty (0 bytes)');
  if (image.size < 512) throw new ImageError(what, `the disk image is smaller than one sector (${image.size} bytes)`);
}

export function checkFloppyImage(what: string, size: number): void {
  if (!floppyGeometry(size)) {
    const sizes = FLOPPY_IMAGE_SIZES.map((s) => `${s / 1024}K`).join(', ');
    throw new ImageError(what, `${size} bytes is not a floppy image size (expected one of ${sizes})`);
  }
}
