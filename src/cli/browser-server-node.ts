/**
 * NODE-ONLY: the web server `webhvm test --browser` points headless Chromium at: the production
 * page (dist/) with the cross-origin isolation headers the page needs (SharedArrayBuffer), and
 * exactly the image files the run registers, each at its own URL with HTTP range requests (the
 * page reads images lazily). Nothing else on the host is served; it listens on 127.0.0.1 only.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export interface BrowserServer {
  /** http://127.0.0.1:PORT/ */
  url: string;
  /** Serve a host file; returns its URL (the same URL for the same file). */
  addFile(path: string): string;
  close(): Promise<void>;
}

export async function serveForBrowser(distDir: string): Promise<BrowserServer> {
  const files = new Map<string, string>(); // URL path -> host file
  const urls = new Map<string, string>(); // host file -> URL path
  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    let file = files.get(path);
    if (!file) {
      const inDist = normalize(join(distDir, path.endsWith('/') ? `${path}index.html` : path));
      if (inDist.startsWith(normalize(distDir) + sep)) file = inDist;
    }
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, ISOLATION).end('not found');
      return;
    }
    const size = statSync(file).size;
    const headers = { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Accept-Ranges': 'bytes', ...ISOLATION };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(size - 1, range[2] ? Number(range[2]) : size - 1);
      if (start > end) {
        res.writeHead(416, { ...ISOLATION, 'Content-Range': `bytes */${size}` }).end();
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
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    addFile(path: string): string {
      let at = urls.get(path);
      if (!at) {
        at = `/__images/${urls.size + 1}/${encodeURIComponent(basename(path))}`;
        urls.set(path, at);
        files.set(decodeURIComponent(at), path);
      }
      return new URL(at, url).href;
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
