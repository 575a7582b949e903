import { createReadStream, closeSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpImageError, HttpRangeBackend } from '../../src/storage/http-range-backend.ts';
import { BlockRangeError, BlockReadOnlyError } from '../../src/storage/block-backend.ts';

/**
 * A local HTTP server with one behaviour per path prefix:
 *   /ranges/F   HEAD with Accept-Ranges and Content-Length, GET honours Range (206)
 *   /plain/F    no Accept-Ranges, GET ignores Range and sends the whole file (200)
 *   /nohead/F   HEAD is 405, GET honours Range
 *   /cut/F      ranges, but every ranged body stops halfway and the connection is dropped
 *   /short/F    ranges, but every ranged body is 100 bytes long (sent chunked, no length)
 *   /liar/F     HEAD announces byte ranges, GET ignores Range (200, the whole file)
 *   anything else: 404
 */
const BLOCK = 64 * 1024;
let dir = '';
let server: Server;
let base = '';
const log: { method: string; path: string; range: string | undefined }[] = [];
const smallBytes = new Uint8Array(5 * BLOCK + 1234).map((_, i) => (i * 131 + (i >> 8)) & 0xff);
const FOUR_GIB = 4 * 1024 ** 3;

function parseRange(header: string | undefined, size: number): [number, number] | undefined {
  const m = header && /^bytes=(\d+)-(\d*)$/.exec(header);
  if (!m) return undefined;
  return [Number(m[1]), m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)];
}

function serve(req: IncomingMessage, res: ServerResponse): void {
  const [, mode, name] = /^\/([a-z]+)\/([\w.-]+)$/.exec(req.url ?? '') ?? [];
  log.push({ method: req.method ?? '', path: req.url ?? '', range: req.headers.range });
  const path = name ? join(dir, name) : '';
  let size = -1;
  try {
    size = statSync(path).size;
  } catch {}
  if (!mode || size < 0 || !['ranges', 'plain', 'nohead', 'cut', 'short', 'liar'].includes(mode)) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    return;
  }
  const ranges = mode !== 'plain';
  const honoursRange = ranges && mode !== 'liar';
  if (req.method === 'HEAD') {
    if (mode === 'nohead') res.writeHead(405).end();
    else res.writeHead(200, { 'Content-Length': size, ...(ranges ? { 'Accept-Ranges': 'bytes' } : {}) }).end();
    return;
  }
  const range = honoursRange ? parseRange(req.headers.range, size) : undefined;
  if (!range) {
    res.writeHead(200, { 'Content-Length': size });
    createReadStream(path).pipe(res);
    return;
  }
  const [first, last] = range;
  const length = last - first + 1;
  const contentRange = `bytes ${first}-${last}/${size}`;
  if (mode === 'short') {
    res.writeHead(206, { 'Content-Range': contentRange });
    createReadStream(path, { start: first, end: first + 99 }).pipe(res);
    return;
  }
  res.writeHead(206, { 'Content-Range': contentRange, 'Content-Length': length });
  if (mode === 'cut') {
    const half = createReadStream(path, { start: first, end: first + Math.floor(length / 2) - 1 });
    half.on('data', (chunk) => res.write(chunk));
    half.on('end', () => res.socket?.destroy());
    return;
  }
  createReadStream(path, { start: first, end: last }).pipe(res);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'webhvm-http-'));
  writeFileSync(join(dir, 'small.img'), smallBytes);
  // A sparse 4 GiB file with markers at both ends: the disk holds only the two written pages.
  const fd = openSync(join(dir, 'big.img'), 'w');
  ftruncateSync(fd, FOUR_GIB);
  writeSync(fd, Buffer.from('FIRST-BYTES'), 0, 11, 0);
  writeSync(fd, Buffer.from('LAST-BYTES'), 0, 10, FOUR_GIB - 10);
  closeSync(fd);
  server = createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  log.length = 0;
});

/** Byte-for-byte equality (vitest's deep equality is slow on large typed arrays). */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  const firstDifference = actual.findIndex((x, i) => x !== expected[i]);
  expect(firstDifference).toBe(-1);
}

const gets = () => log.filter((r) => r.method === 'GET').map((r) => r.range ?? 'whole');

describe('HttpRangeBackend with a server that serves ranges', () => {
  it('learns the size from HEAD and reads blocks on demand, each once', async () => {
    const b = await HttpRangeBackend.open(`${base}/ranges/small.img`);
    expect(b.size).toBe(smallBytes.length);
    expect(b.readOnly).toBe(true);
    expect(b.usesRanges).toBe(true);
    expect(log.map((r) => r.method)).toEqual(['HEAD']);

    expectBytes(await b.read(1000, 100), smallBytes.slice(1000, 1100));
    expect(gets()).toEqual([`bytes=0-${BLOCK - 1}`]);
    // The same block again: from the cache.
    expectBytes(await b.read(2000, 10), smallBytes.slice(2000, 2010));
    expect(gets()).toHaveLength(1);

    // Blocks 1-3 in one read: one request for the run.
    expectBytes(await b.read(BLOCK + 10, 3 * BLOCK - 20), smallBytes.slice(BLOCK + 10, 4 * BLOCK - 10));
    expect(gets()).toEqual([`bytes=0-${BLOCK - 1}`, `bytes=${BLOCK}-${4 * BLOCK - 1}`]);

    // The last, partial block: the range ends at the last byte of the file.
    expectBytes(await b.read(smallBytes.length - 5, 5), smallBytes.slice(-5));
    expect(gets()[2]).toBe(`bytes=${5 * BLOCK}-${smallBytes.length - 1}`);
    expect(b.stats.requests).toBe(4);
    expect(b.stats.blockMisses).toBe(5);
    expect(b.stats.blockHits).toBe(1);
  });

  it('coalesces concurrent reads of a block into one request', async () => {
    const b = await HttpRangeBackend.open(`${base}/ranges/small.img`);
    const reads = await Promise.all([b.read(4 * BLOCK, 512), b.read(4 * BLOCK + 512, 512), b.read(4 * BLOCK + 100, 2000)]);
    expectBytes(reads[0], smallBytes.slice(4 * BLOCK, 4 * BLOCK + 512));
    expectBytes(reads[1], smallBytes.slice(4 * BLOCK + 512, 4 * BLOCK + 1024));
    expectBytes(reads[2], smallBytes.slice(4 * BLOCK + 100, 4 * BLOCK + 2100));
    expect(gets()).toEqual([`bytes=${4 * BLOCK}-${5 * BLOCK - 1}`]);
  });

  it('keeps the cache within its byte bound, dropping the least recently used block', async () => {
    const b = await HttpRangeBackend.open(`${base}/ranges/small.img`, { cacheBytes: 2 * BLOCK });
    await b.read(0, 1);
    await b.read(BLOCK, 1);
    await b.read(0, 1); // block 0 is now the most recently used
    await b.read(2 * BLOCK, 1); // evicts block 1
    expect(gets()).toHaveLength(3);
    await b.read(0, 1);
    await b.read(2 * BLOCK, 1);
    expect(gets()).toHaveLength(3);
    await b.read(BLOCK, 1);
    expect(gets()).toHaveLength(4);
    expect(gets()[3]).toBe(`bytes=${BLOCK}-${2 * BLOCK - 1}`);
  });

  it('splits long runs of missing blocks into bounded requests', async () => {
    const b = await HttpRangeBackend.open(`${base}/ranges/small.img`, { maxBlocksPerRequest: 2 });
    expectBytes(await b.read(0, smallBytes.length), smallBytes);
    expect(gets()).toEqual([`bytes=0-${2 * BLOCK - 1}`, `bytes=${2 * BLOCK}-${4 * BLOCK - 1}`, `bytes=${4 * BLOCK}-${smallBytes.length - 1}`]);
  });

  it('probes with a ranged GET when HEAD is not allowed, and keeps that first block', async () => {
    const b = await HttpRangeBackend.open(`${base}/nohead/small.img`);
    expect(b.size).toBe(smallBytes.length);
    expect(b.usesRanges).toBe(true);
    expect(log.map((r) => `${r.method} ${r.range ?? ''}`)).toEqual(['HEAD ', `GET bytes=0-${BLOCK - 1}`]);
    expectBytes(await b.read(10, 20), smallBytes.slice(10, 30));
    expect(log).toHaveLength(2);
  });

  it('refuses reads outside the image and all writes', async () => {
    const b = await HttpRangeBackend.open(`${base}/ranges/small.img`);
    await expect(b.read(smallBytes.length - 1, 2)).rejects.toBeInstanceOf(BlockRangeError);
    await expect(b.write(0, new Uint8Array(1))).rejects.toBeInstanceOf(BlockReadOnlyError);
    expect(gets()).toHaveLength(0);
  });
});

describe('HttpRangeBackend with a server without ranges', () => {
  it('downloads the file once, whole, and serves every read from it', async () => {
    const b = await HttpRangeBackend.open(`${base}/plain/small.img`);
    expect(b.usesRanges).toBe(false);
    expect(b.size).toBe(smallBytes.length);
    expect(gets()).toEqual([`bytes=0-${BLOCK - 1}`]); // the probe, answered with 200 and the whole file
    expectBytes(await b.read(3 * BLOCK - 7, 100), smallBytes.slice(3 * BLOCK - 7, 3 * BLOCK + 93));
    expectBytes(await b.read(0, smallBytes.length), smallBytes);
    expect(log).toHaveLength(2);
    expect(b.stats.bytesReceived).toBe(smallBytes.length);
  });

  it('falls back to the whole file when a range request announced by HEAD gets a 200', async () => {
    const b = await HttpRangeBackend.open(`${base}/liar/small.img`);
    expect(b.usesRanges).toBe(true);
    expectBytes(await b.read(2 * BLOCK + 3, 10), smallBytes.slice(2 * BLOCK + 3, 2 * BLOCK + 13));
    expect(b.usesRanges).toBe(false);
    expectBytes(await b.read(4 * BLOCK, 100), smallBytes.slice(4 * BLOCK, 4 * BLOCK + 100));
    expect(gets()).toEqual([`bytes=${2 * BLOCK}-${3 * BLOCK - 1}`]);
  });

  it('refuses a whole download over the limit, with the sizes in the message', async () => {
    const open = HttpRangeBackend.open(`${base}/plain/small.img`, { wholeDownloadLimit: 1024 * 1024 / 4 });
    await expect(open).rejects.toBeInstanceOf(HttpImageError);
    await expect(open).rejects.toThrow(new RegExp(`does not support range requests, and the file is ${smallBytes.length} bytes .* over the 256 KiB limit`));
  });
});

describe('HttpRangeBackend errors', () => {
  it('names the URL and the status for a missing file', async () => {
    const url = `${base}/ranges/nothing-here.img`;
    const open = HttpRangeBackend.open(url);
    await expect(open).rejects.toThrow(`${url}: HTTP 404 Not Found (no such file on the server)`);
    await expect(open).rejects.toMatchObject({ status: 404 });
  });

  it('reports a network failure', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(HttpRangeBackend.open(`http://127.0.0.1:${port}/x.img`)).rejects.toThrow(/network error reading HEAD/);
  });

  it('retries a range whose connection broke once, then reports it', async () => {
    const b = await HttpRangeBackend.open(`${base}/cut/small.img`);
    await expect(b.read(0, 10)).rejects.toThrow(/connection broke while reading the range 0-65535|sent 32768 of the 65536 bytes/);
    expect(gets()).toEqual([`bytes=0-${BLOCK - 1}`, `bytes=0-${BLOCK - 1}`]);
    // Nothing half-read was cached: the next read asks again.
    await expect(b.read(0, 10)).rejects.toThrow(HttpImageError);
    expect(gets()).toHaveLength(4);
  });

  it('reports a short body as a truncated response', async () => {
    const b = await HttpRangeBackend.open(`${base}/short/small.img`);
    await expect(b.read(BLOCK, 10)).rejects.toThrow(`the server sent 100 of the ${BLOCK} bytes of the range ${BLOCK}-${2 * BLOCK - 1} (a truncated response)`);
    expect(gets()).toHaveLength(2);
  });
});

describe('HttpRangeBackend with a 4 GiB image', () => {
  it('reads its end and its start without holding the file in memory', async () => {
    const before = process.memoryUsage();
    const b = await HttpRangeBackend.open(`${base}/ranges/big.img`);
    expect(b.size).toBe(FOUR_GIB);
    const end = await b.read(FOUR_GIB - 10, 10);
    expect(Buffer.from(end).toString()).toBe('LAST-BYTES');
    const start = await b.read(0, 11);
    expect(Buffer.from(start).toString()).toBe('FIRST-BYTES');
    const middle = await b.read(2 * 1024 ** 3 + 5, 512);
    expect(middle.every((x) => x === 0)).toBe(true);
    expect(gets()).toEqual([`bytes=${FOUR_GIB - BLOCK}-${FOUR_GIB - 1}`, `bytes=0-${BLOCK - 1}`, `bytes=${2 * 1024 ** 3}-${2 * 1024 ** 3 + BLOCK - 1}`]);
    expect(b.stats.bytesReceived).toBe(3 * BLOCK);
    const after = process.memoryUsage();
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(64 * 1024 * 1024);
    expect(after.rss - before.rss).toBeLessThan(256 * 1024 * 1024);
  });
});
