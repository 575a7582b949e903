/**
 * NODE-ONLY: `webhvm overlay list|export|discard <config> ...`: the persistent disk overlays
 * that `webhvm run --persist` keeps beside a configuration (`<name>.<vdev>.overlay`).
 *   list <config>                       each writable disk, its overlay file and how much it holds
 *   export <config> <vdev> <out.img>    the image as the guest sees it (base + overlay) into a new file
 *   discard <config> [vdev]             remove the overlay(s): the disk reads as its image again
 * The user's image is only ever read.
 */
import { open } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { readDomainConfigFile, nodeMediaResolver } from '../config/resolve-node.ts';
import { resolveMedia } from '../config/media.ts';
import { ConfigError } from '../config/diagnostics.ts';
import { NodeFileBackend } from '../storage/node-file-backend.ts';
import { CowOverlay } from '../storage/cow-overlay.ts';
import { imageIdentity } from '../storage/overlay-store.ts';
import { OverlayFile, overlayPath, discardOverlayFile } from '../storage/overlay-file-node.ts';

const usage = `usage: webhvm overlay list <config>
       webhvm overlay export <config> <vdev> <out.img>
       webhvm overlay discard <config> [vdev]`;

interface WritableDisk {
  vdev: string;
  image: string;
  overlay: string;
}

async function writableDisks(configPath: string): Promise<WritableDisk[]> {
  const { config } = await readDomainConfigFile(configPath);
  const media = await resolveMedia(config, nodeMediaResolver(configPath), { fileName: configPath });
  const out: WritableDisk[] = [];
  for (const { drive, image } of media.disks) {
    if (drive.media !== 'disk' || drive.mode !== 'w' || image?.kind !== 'file') continue;
    out.push({ vdev: drive.vdev, image: image.path, overlay: overlayPath(configPath, config.name, drive.vdev) });
  }
  return out;
}

/** The base image behind a copy-on-write overlay loaded from its overlay file. */
async function openMerged(disk: WritableDisk): Promise<{ merged: CowOverlay; close: () => Promise<void> }> {
  const base = await NodeFileBackend.open(disk.image);
  const merged = new CowOverlay(base);
  const store = new OverlayFile(disk.overlay);
  try {
    merged.loadBlocks(await store.open(await imageIdentity(base), merged.blockSize));
  } finally {
    await store.close();
  }
  return { merged, close: () => base.close() };
}

export async function overlayCommand(args: string[]): Promise<number> {
  const [action, configPath, ...rest] = args;
  if (!action || !configPath || !['list', 'export', 'discard'].includes(action)) {
    console.error(usage);
    return 2;
  }
  try {
    const disks = await writableDisks(configPath);
    const pick = (vdev: string | undefined) => {
      const list = vdev ? disks.filter((d) => d.vdev === vdev) : disks;
      if (vdev && !list.length) throw new Error(`${vdev} is not a writable disk of ${configPath} (writable: ${disks.map((d) => d.vdev).join(', ') || 'none'})`);
      return list;
    };
    if (action === 'list') {
      for (const d of disks) {
        if (!existsSync(d.overlay)) {
          console.log(`${d.vdev}: ${d.image}: no overlay`);
          continue;
        }
        const { merged, close } = await openMerged(d);
        console.log(`${d.vdev}: ${d.image}: overlay ${d.overlay}, ${merged.dirtyBlocks} blocks of ${merged.blockSize} bytes changed`);
        await close();
      }
      return 0;
    }
    if (action === 'discard') {
      for (const d of pick(rest[0])) {
        console.log(`${d.vdev}: ${(await discardOverlayFile(d.overlay)) ? `removed ${d.overlay}` : 'no overlay'}`);
      }
      return 0;
    }
    const [vdev, out] = rest;
    if (!vdev || !out) {
      console.error(usage);
      return 2;
    }
    const [disk] = pick(vdev);
    if (!existsSync(disk.overlay)) throw new Error(`${vdev} has no overlay (${disk.overlay}): the image is unchanged`);
    const { merged, close } = await openMerged(disk);
    const target = await open(out, 'wx'); // never overwrite a file, least of all the image
    try {
      const chunk = 4 << 20;
      for (let at = 0; at < merged.size; at += chunk) {
        const data = await merged.read(at, Math.min(chunk, merged.size - at));
        await target.write(data, 0, data.length, at);
      }
      await target.sync();
    } finally {
      await target.close();
      await close();
    }
    console.log(`${vdev}: wrote ${out} (${merged.size} bytes, ${merged.dirtyBlocks} changed blocks)`);
    return 0;
  } catch (e) {
    console.error(`webhvm overlay: ${e instanceof ConfigError ? e.message : (e as Error).message}`);
    return e instanceof ConfigError ? 2 : 1;
  }
}
