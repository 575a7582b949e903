/**
 * NODE-ONLY: the web server `webhvm test --browser` points headless Chromium at: the production
 * page (dist/) with the cross-origin isolation headers the page needs (SharedArrayBuffer), and
 * exactly the image files the run registers, each at its own URL with HTTP range requests (the
 * page reads images lazily). Nothing else on the host is served; it listens on 127.0.0.1 only.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { basename, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ISOLATION_HEADERS, serveFile } from './serve-file-node.ts';


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
    serveFile(req, res, file, ISOLATION_HEADERS);
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
