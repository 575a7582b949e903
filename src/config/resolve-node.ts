/**
 * NODE-ONLY: image paths under Node (the command-line runner and the tests), and reading a
 * configuration file from disk. A relative path is relative to the configuration file's
 * directory. An absolute path from the Xen host is used if it exists here; otherwise the file
 * of the same base name next to the configuration file is used, so that a copied VM directory
 * (config plus images) boots unchanged.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { type ImageSource, type MediaRequest, type MediaResolver, baseName } from './media.ts';
import { type ParseOptions, parseDomainConfig } from './parse-domain-config.ts';
import type { ParseResult } from './validate.ts';

export function nodeMediaResolver(configPath: string): MediaResolver<ImageSource> {
  const dir = dirname(resolve(configPath));
  return {
    async resolve(request: MediaRequest): Promise<ImageSource> {
      const path = request.path;
      if (/^(https?|data):/i.test(path)) return { kind: 'url', url: path };
      const candidates = isAbsolute(path) ? [path, join(dir, baseName(path))] : [resolve(dir, path)];
      const tried: string[] = [];
      for (const candidate of candidates) {
        if (tried.includes(candidate)) continue;
        tried.push(candidate);
        const info = await stat(candidate).catch(() => undefined);
        if (info === undefined) continue;
        if (!info.isFile()) throw new Error(`${candidate} is not a regular file (WebHVM reads image files, not devices)`);
        return { kind: 'file', path: candidate, size: info.size };
      }
      throw new Error(`not found (looked for ${tried.join(' and ')})`);
    },
  };
}

/** Reads and parses a configuration file; messages name it by its base name. */
export async function readDomainConfigFile(path: string, options: ParseOptions = {}): Promise<ParseResult> {
  const text = await readFile(path, 'utf8');
  return parseDomainConfig(text, { fileName: options.fileName ?? basename(path) });
}
