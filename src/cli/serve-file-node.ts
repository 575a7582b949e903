/**
 * NODE-ONLY: answers one HTTP request with a file, with Range support (206/416) as the page's
 * HTTP range backend uses it, for the local servers of `webhvm test --browser` and the e2e tests.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.cfg': 'text/plain; charset=utf-8',
};

/** The headers that make a page cross-origin isolated (the emulator's shared memory needs them). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Sends `file` (or 404), honouring a `Range: bytes=a-b` request; `extra` goes on every answer. */
export function serveFile(req: IncomingMessage, res: ServerResponse, file: string | undefined, extra: Record<string, string> = {}): void {
  if (!file || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404, extra).end('not found');
    return;
  }
  const size = statSync(file).size;
  const headers = { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Accept-Ranges': 'bytes', ...extra };
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (range) {
    const start = Number(range[1]);
    const end = Math.min(size - 1, range[2] ? Number(range[2]) : size - 1);
    if (start > end) {
      res.writeHead(416, { ...extra, 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    res.writeHead(206, { ...headers, 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${size}` });
    createReadStream(file, { start, end }).pipe(res);
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Length': size });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
}
