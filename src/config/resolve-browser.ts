/**
 * Image paths in the browser: a path is matched by its base name against the files the user
 * dropped (`/root/xenimages/winXP128.img` finds a dropped `winXP128.img`; exact name first, then
 * ignoring case), or it is a URL (`http:`, `https:`, `blob:`, `data:`, or a relative path when
 * the configuration itself came from a URL). Uses only web-platform globals (Blob, File, URL).
 */
import { type ImageSource, type MediaRequest, type MediaResolver, baseName } from './media.ts';

export interface BrowserResolverOptions {
  /** Dropped files, or blobs by name. */
  files?: Iterable<File> | ReadonlyMap<string, Blob>;
  /** The URL the configuration file was loaded from: relative paths resolve against it. */
  baseUrl?: string;
}

const URL_SCHEME = /^(https?|blob|data):/i;

export function browserMediaResolver(options: BrowserResolverOptions = {}): MediaResolver<ImageSource> {
  const byName = new Map<string, Blob>();
  if (options.files instanceof Map) for (const [name, blob] of options.files) byName.set(name, blob);
  else if (options.files) for (const f of options.files as Iterable<File>) byName.set(f.name, f);
  return {
    resolve(request: MediaRequest): ImageSource {
      const path = request.path;
      if (URL_SCHEME.test(path)) return { kind: 'url', url: path };
      const name = baseName(path);
      const exact = byName.get(name);
      if (exact) return { kind: 'blob', blob: exact, name };
      const folded = [...byName].filter(([n]) => n.toLowerCase() === name.toLowerCase());
      if (folded.length === 1) return { kind: 'blob', blob: folded[0]![1], name: folded[0]![0] };
      if (options.baseUrl && !path.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(path)) {
        return { kind: 'url', url: new URL(path, options.baseUrl).href };
      }
      const dropped = byName.size === 0 ? 'no files were dropped' : `dropped: ${[...byName.keys()].join(', ')}`;
      throw new Error(`drop a file named ${name} (${dropped})`);
    },
  };
}
