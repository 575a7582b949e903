/**
 * NODE-ONLY: `--tftp DIR`, `--tftp NAME=FILE` and `--boot-file NAME`: what the built-in
 * gateway's TFTP server serves and which boot file its DHCP server names (network boot). Every
 * directory and file is checked when the options are read, before any VM starts; files are read
 * when a guest first asks for them and kept (the guest's TFTP timers do not wait for the disk,
 * so the answer must be at hand: see TftpFiles in src/net/tftp.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { GatewayOptions } from '../net/gateway.ts';

type Source = { kind: 'dir'; dir: string } | { kind: 'file'; name: string; file: string };

/** Gateway options from the runner's arguments; throws an Error that says what is wrong. */
export function gatewayOptionsFromArgs(tftp: readonly string[], bootFile: string | undefined): Omit<GatewayOptions, 'port'> {
  if (bootFile !== undefined && tftp.length === 0) throw new Error('--boot-file: no --tftp option says what the TFTP server serves');
  if (tftp.length === 0) return {};
  const sources = tftp.map(parseSource);
  const files = tftpFilesFrom(sources);
  if (bootFile !== undefined) {
    const name = bootFile.replace(/^\/+/, '');
    if (name === '' || !files(name)) throw new Error(`--boot-file ${bootFile}: not among the files --tftp serves`);
  }
  return { tftp: files, dhcp: bootFile === undefined ? undefined : { bootFile } };
}

function parseSource(spec: string): Source {
  if (isDirectory(spec)) return { kind: 'dir', dir: resolve(spec) };
  const eq = spec.indexOf('=');
  if (eq > 0) {
    const name = spec.slice(0, eq).replace(/^\/+/, '');
    const file = spec.slice(eq + 1);
    if (name === '' || name.split('/').includes('..')) throw new Error(`--tftp ${spec}: '${spec.slice(0, eq)}' is not a file name the server can serve`);
    if (!isFile(file)) throw new Error(`--tftp ${spec}: ${file} is not a readable file`);
    return { kind: 'file', name, file: resolve(file) };
  }
  throw new Error(`--tftp ${spec}: not a directory (expected --tftp DIR or --tftp NAME=FILE)`);
}

function tftpFilesFrom(sources: readonly Source[]): (path: string) => Uint8Array | undefined {
  const cache = new Map<string, Uint8Array>();
  return (path) => {
    const cached = cache.get(path);
    if (cached) return cached;
    for (const source of sources) {
      const file = source.kind === 'file' ? (source.name === path ? source.file : undefined) : inside(source.dir, path);
      if (file === undefined || !isFile(file)) continue;
      const buf = readFileSync(file);
      const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      cache.set(path, bytes);
      return bytes;
    }
    return undefined;
  };
}

/** `dir/path` when it stays inside `dir`. */
function inside(dir: string, path: string): string | undefined {
  const full = resolve(dir, path);
  const rel = relative(dir, full);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? undefined : full;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
