/**
 * From the paths in a DomainConfig to image sources. The file names images by the paths they
 * had on the Xen host (`/root/xenimages/winXP128.img`, `/dev/vg01/winxp0`); what such a path
 * means here depends on where WebHVM runs, so the mapping is a resolver passed in:
 * resolve-browser.ts (dropped files by base name, or URLs) and resolve-node.ts (files relative
 * to the configuration file). Every path that cannot be resolved is reported at once, with the
 * line and column of the entry that names it, before the VM starts.
 */
import { ConfigError, type ConfigProblem, type SourcePosition } from './diagnostics.ts';
import type { DiskDrive, DomainConfig } from './domain-config.ts';

/** Where an image's bytes come from; the storage layer opens it (NodeFileBackend, BlobBackend, HTTP). */
export type ImageSource =
  | { kind: 'file'; path: string; size: number }
  | { kind: 'blob'; blob: Blob; name: string }
  | { kind: 'url'; url: string };

/** What the image is for: a resolver may treat a CD-ROM image differently from a writable disk. */
export type MediaRole = 'disk' | 'cdrom' | 'floppy' | 'kernel' | 'ramdisk';

export interface MediaRequest {
  path: string;
  role: MediaRole;
  /** The key that named it (`disk`, `fda`, `kernel`, ...). */
  key: string;
  /** Read-only (`r`) or read-write (`w`, through a copy-on-write overlay). */
  mode: 'r' | 'w';
  source: SourcePosition;
}

export interface MediaResolver<S = ImageSource> {
  /** The image for `request.path`; throws (or rejects) with an Error saying why when there is none. */
  resolve(request: MediaRequest): S | Promise<S>;
}

export interface ResolvedDisk<S> {
  drive: DiskDrive;
  /** null for a CD-ROM drive with no disc. */
  image: S | null;
}

export interface ResolvedMedia<S> {
  /** The drives of `config.disks` in list order (empty slots left out). */
  disks: ResolvedDisk<S>[];
  fda: S | null;
  fdb: S | null;
  kernel: S | null;
  ramdisk: S | null;
}

export async function resolveMedia<S = ImageSource>(
  config: DomainConfig,
  resolver: MediaResolver<S>,
  options: { fileName?: string } = {},
): Promise<ResolvedMedia<S>> {
  const problems: ConfigProblem[] = [];
  const one = async (request: MediaRequest | null): Promise<S | null> => {
    if (request === null) return null;
    try {
      return await resolver.resolve(request);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      problems.push({ ...request.source, key: request.key, message: `cannot open '${request.path}': ${why}` });
      return null;
    }
  };
  const drives = config.disks.filter((d): d is DiskDrive => !d.empty);
  const disks = await Promise.all(
    drives.map(async (drive) => ({
      drive,
      image:
        drive.path === null
          ? null
          : await one({ path: drive.path, role: drive.media, key: 'disk', mode: drive.mode, source: drive.source }),
    })),
  );
  const floppy = (key: 'fda' | 'fdb') =>
    config[key].path === null || config[key].source === null
      ? null
      : { path: config[key].path!, role: 'floppy' as const, key, mode: 'w' as const, source: config[key].source! };
  const dk = config.directKernel;
  const [fda, fdb, kernel, ramdisk] = await Promise.all([
    one(floppy('fda')),
    one(floppy('fdb')),
    one(dk ? { path: dk.kernel, role: 'kernel', key: 'kernel', mode: 'r', source: dk.kernelSource } : null),
    one(dk?.ramdisk ? { path: dk.ramdisk, role: 'ramdisk', key: 'ramdisk', mode: 'r', source: dk.ramdiskSource ?? dk.kernelSource } : null),
  ]);
  if (problems.length > 0) throw new ConfigError(options.fileName ?? 'domain.cfg', problems);
  return { disks, fda, fdb, kernel, ramdisk };
}

/** The last component of a path written with / or \ (Windows hosts). */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] ?? path;
}
