/**
 * NODE-ONLY test helper: serves a directory (the production build in dist/) over HTTP with the
 * cross-origin isolation headers a static host must send, plus a read-only `/media/` route onto
 * the guest images, with Range support, so the page can fetch images by URL.
 */
import { createServer, type Server } from 'node:http';
import { join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ISOLATION_HEADERS, serveFile } from '../../src/cli/serve-file-node.ts';

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serve `root` at `/` and `mediaRoot` at `/media/`; `isolated: false` leaves the headers out. */
export function serveStatic(root: string, mediaRoot: string, options: { isolated?: boolean } = {}): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let path = decodeURIComponent(url.pathname);
    const base = path.startsWith('/media/') ? mediaRoot : root;
    if (path.startsWith('/media/')) path = path.slice('/media'.length);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(base, path));
    serveFile(req, res, file.startsWith(normalize(base) + sep) ? file : undefined, options.isolated === false ? {} : ISOLATION_HEADERS);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
