/**
 * The browser overlay file: how a disk overlay is laid out in the Origin Private File System,
 * and what "export overlay only" downloads (from OPFS or IndexedDB alike). Unlike the Node
 * overlay file (blocks at fixed offsets in a sparse file), browser files are not sparse, so
 * blocks are kept in slots appended in the order they were first written:
 *
 *   0      "WHVMOVB1" magic, u32 format version (1), u32 block size, f64 image size,
 *          16 ASCII hex digits: the image identity hash (first and last 64 KiB, as under Node),
 *          u32 length + UTF-8 JSON: VM name, vdev, image name, image lastModified
 *   4096   slot 0, slot 1, ...: each a 16-byte slot header ("BLK1", u32 block index,
 *          u32 length, u32 0) and `block size` bytes of data
 *
 * A slot's data is written before its header, so a slot is never claimed before its data is
 * there (a torn append leaves a slot without a header, which the next append reuses). A block
 * written again is rewritten in its slot. All integers little-endian.
 *
 * Portable: no DOM, no Node APIs.
 */
import { OverlayMismatchError } from './overlay-store.ts';

export const BROWSER_OVERLAY_MAGIC = 'WHVMOVB1';
export const BROWSER_OVERLAY_VERSION = 1;
export const HEADER_BYTES = 4096;
export const SLOT_HEADER_BYTES = 16;
const SLOT_TAG = 0x314b4c42; // "BLK1"

/** What a browser overlay was made for, and for which VM and drive. */
export interface BrowserOverlayMeta {
  /** `<vm>.<vdev>`: the overlay's name in this browser (overlayKey). */
  key: string;
  vm: string;
  vdev: string;
  blockSize: number;
  imageName: string;
  imageSize: number;
  /** The image identity hash (imageIdentity in overlay-store.ts). */
  imageHash: string;
  /** The dropped file's lastModified (ms since 1970), or null for a URL image. */
  imageModified: number | null;
}

/** The name an overlay has in this browser: the VM and the drive, as the Node overlay file. */
export function overlayKey(vm: string, vdev: string): string {
  return `${vm.replace(/[^A-Za-z0-9._-]/g, '_')}.${vdev}`;
}

/** An overlay the page cannot use with this image (or a damaged one), with what to do about it. */
export class BrowserOverlayMismatchError extends OverlayMismatchError {
  constructor(location: string, detail: string) {
    super(location, detail);
    this.message = `${location}: ${detail}; export it or discard it in the Disks panel first`;
  }
}

function describeImage(m: Pick<BrowserOverlayMeta, 'imageName' | 'imageSize' | 'imageModified'>): string {
  const modified = m.imageModified === null ? '' : `, modified ${new Date(m.imageModified).toISOString()}`;
  return `${m.imageName} (${m.imageSize} bytes${modified})`;
}

/**
 * Refuse an overlay made for another image: another size or content identity, or (for a dropped
 * file) another lastModified, since the identity hash covers only the first and last 64 KiB.
 * Dropping the very same file again after a reload matches; the file's name may differ.
 */
export function checkOverlayMeta(location: string, saved: BrowserOverlayMeta, want: BrowserOverlayMeta): void {
  const sameContent = saved.imageSize === want.imageSize && saved.imageHash === want.imageHash;
  const sameFile = saved.imageModified === null || want.imageModified === null || saved.imageModified === want.imageModified;
  if (!sameContent || !sameFile) {
    throw new BrowserOverlayMismatchError(location, `was made for another image, ${describeImage(saved)}; this image is ${describeImage(want)}`);
  }
  if (saved.blockSize !== want.blockSize) throw new BrowserOverlayMismatchError(location, `uses ${saved.blockSize}-byte blocks, expected ${want.blockSize}`);
}

const utf8 = new TextEncoder();

export function encodeOverlayHeader(meta: BrowserOverlayMeta): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  const view = new DataView(header.buffer);
  header.set(utf8.encode(BROWSER_OVERLAY_MAGIC), 0);
  view.setUint32(8, BROWSER_OVERLAY_VERSION, true);
  view.setUint32(12, meta.blockSize, true);
  view.setFloat64(16, meta.imageSize, true);
  header.set(utf8.encode(meta.imageHash.padEnd(16, '0').slice(0, 16)), 24);
  const json = utf8.encode(JSON.stringify({ vm: meta.vm, vdev: meta.vdev, imageName: meta.imageName, imageModified: meta.imageModified }));
  if (44 + json.length > HEADER_BYTES) throw new RangeError('overlay header: the VM or image name is too long');
  view.setUint32(40, json.length, true);
  header.set(json, 44);
  return header;
}

/** Parse a header; `location` names the file in errors. */
export function decodeOverlayHeader(bytes: Uint8Array, location: string): BrowserOverlayMeta {
  const text = (a: number, b: number) => new TextDecoder().decode(bytes.subarray(a, b));
  if (bytes.length < 44 || text(0, 8) !== BROWSER_OVERLAY_MAGIC) throw new BrowserOverlayMismatchError(location, 'is not a WebHVM browser overlay');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== BROWSER_OVERLAY_VERSION) throw new BrowserOverlayMismatchError(location, `has overlay format version ${version}, this build reads ${BROWSER_OVERLAY_VERSION}`);
  const jsonLength = view.getUint32(40, true);
  if (44 + jsonLength > Math.min(bytes.length, HEADER_BYTES)) throw new BrowserOverlayMismatchError(location, 'has a damaged header');
  let extra: { vm?: unknown; vdev?: unknown; imageName?: unknown; imageModified?: unknown };
  try {
    extra = JSON.parse(text(44, 44 + jsonLength));
  } catch {
    throw new BrowserOverlayMismatchError(location, 'has a damaged header');
  }
  const vm = String(extra.vm ?? '');
  const vdev = String(extra.vdev ?? '');
  return {
    key: overlayKey(vm, vdev),
    vm,
    vdev,
    blockSize: view.getUint32(12, true),
    imageName: String(extra.imageName ?? ''),
    imageSize: view.getFloat64(16, true),
    imageHash: text(24, 40),
    imageModified: typeof extra.imageModified === 'number' ? extra.imageModified : null,
  };
}

/** Bytes from one slot to the next. */
export function slotStride(blockSize: number): number {
  return SLOT_HEADER_BYTES + blockSize;
}

export function slotOffset(slot: number, blockSize: number): number {
  return HEADER_BYTES + slot * slotStride(blockSize);
}

export function encodeSlotHeader(index: number, length: number): Uint8Array {
  const out = new Uint8Array(SLOT_HEADER_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, SLOT_TAG, true);
  view.setUint32(4, index, true);
  view.setUint32(8, length, true);
  return out;
}

/** The block a slot holds, or undefined for a slot never completed. */
export function decodeSlotHeader(bytes: Uint8Array): { index: number; length: number } | undefined {
  if (bytes.length < SLOT_HEADER_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== SLOT_TAG) return undefined;
  return { index: view.getUint32(4, true), length: view.getUint32(8, true) };
}

/** Slots a file of `fileSize` bytes has room for (a torn last slot counts: it is reused). */
export function slotCount(fileSize: number, blockSize: number): number {
  return Math.max(0, Math.ceil((fileSize - HEADER_BYTES) / slotStride(blockSize)));
}
