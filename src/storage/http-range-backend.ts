import { type BlockBackend, BlockReadOnlyError, checkBlockRange } from './block-backend.ts';
import { ImageError } from './image-checks.ts';

/**
 * A disk or CD image behind a URL, read on demand with HTTP range requests (RFC 9110, 14:
 * `Range: bytes=first-last`, answered by `206 Partial Content` with `Content-Range`). Blocks of
 * `blockSize` bytes are kept in an LRU cache bounded in bytes; adjacent missing blocks of one
 * read go out as one request, and a block already on its way is waited for, not asked for again.
 *
 * Opening asks `HEAD` for the size and `Accept-Ranges`; when the server does not announce byte
 * ranges, one ranged GET settles it. A server that answers a range request with `200` and the
 * whole file gets one whole download instead, refused with a clear error above
 * `wholeDownloadLimit`. In a browser, a cross-origin server must expose `Content-Range` and
 * `Accept-Ranges` (Access-Control-Expose-Headers) or the size comes from `Content-Length` alone.
 *
 * Runs wherever `fetch` exists: browser windows and workers, Node 18+. Read-only: put a
 * CowOverlay over it for a writable disk.
 */
export interface HttpRangeBackendOptions {
  /** Bytes per cached block (default 64 KiB). */
  blockSize?: number;
  /** Upper bound of the block cache in bytes (default 32 MiB). */
  cacheBytes?: number;
  /** Most blocks fetched by one request (default 16). */
  maxBlocksPerRequest?: number;
  /** Largest file downloaded whole from a server without range support (default 512 MiB). */
  wholeDownloadLimit?: number;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

/** What the backend asked the server, for status displays and tests. */
export interface HttpRangeStats {
  /** Every HTTP request made (HEAD, ranged and whole GETs, retries). */
  requests: number;
  /** Body bytes received. */
  bytesReceived: number;
  /** Blocks served from the cache or from a request already in flight. */
  blockHits: number;
  /** Blocks that had to be fetched. */
  blockMisses: number;
}

/** A URL that cannot be used as an image, or a read of it that failed. */
export class HttpImageError extends ImageError {
  constructor(
    readonly url: string,
    message: string,
    readonly status?: number,
  ) {
    super(url, message);
    this.name = 'HttpImageError';
  }
}

const DEFAULTS = {
  blockSize: 64 * 1024,
  cacheBytes: 32 * 1024 * 1024,
  maxBlocksPerRequest: 16,
  wholeDownloadLimit: 512 * 1024 * 1024,
};

export class HttpRangeBackend implements BlockBackend {
  readonly readOnly = true;
  readonly stats: HttpRangeStats = { requests: 0, bytesReceived: 0, blockHits: 0, blockMisses: 0 };
  private readonly blockSize: number;
  private readonly cacheBytes: number;
  private readonly maxBlocksPerRequest: number;
  private readonly wholeDownloadLimit: number;
  private readonly fetchFn: typeof fetch;
  /** Cached blocks, least recently used first (Map keeps insertion order). */
  private readonly cache = new Map<number, Uint8Array>();
  private cachedBytes = 0;
  private readonly inFlight = new Map<number, Promise<Uint8Array>>();
  /** The whole image, when the server cannot do ranges. */
  private whole: Uint8Array | undefined;

  private constructor(
    readonly url: string,
    public size: number,
    options: HttpRangeBackendOptions,
  ) {
    this.blockSize = positiveInteger(options.blockSize ?? DEFAULTS.blockSize, 'blockSize');
    this.cacheBytes = positiveInteger(options.cacheBytes ?? DEFAULTS.cacheBytes, 'cacheBytes');
    this.maxBlocksPerRequest = positiveInteger(options.maxBlocksPerRequest ?? DEFAULTS.maxBlocksPerRequest, 'maxBlocksPerRequest');
    this.wholeDownloadLimit = positiveInteger(options.wholeDownloadLimit ?? DEFAULTS.wholeDownloadLimit, 'wholeDownloadLimit');
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new HttpImageError(url, 'this environment has no fetch()');
    this.fetchFn = f.bind(globalThis);
  }

  /** Opens `url`: learns its size and whether the server serves byte ranges. */
  static async open(url: string, options: HttpRangeBackendOptions = {}): Promise<HttpRangeBackend> {
    const backend = new HttpRangeBackend(url, 0, options);
    await backend.probe();
    return backend;
  }

  /** True when reads go to the server range by range (false after a whole download). */
  get usesRanges(): boolean {
    return this.whole === undefined;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkBlockRange(offset, length, this.size);
    if (this.whole) return this.whole.slice(offset, offset + length);
    const out = new Uint8Array(length);
    if (length === 0) return out;
    const first = Math.floor(offset / this.blockSize);
    const last = Math.floor((offset + length - 1) / this.blockSize);
    const blocks = await Promise.all(this.blockPromises(first, last));
    const whole = this.whole as Uint8Array | undefined; // set meanwhile if the server stopped doing ranges
    if (whole) return whole.slice(offset, offset + length);
    for (let i = first; i <= last; i++) {
      const block = blocks[i - first];
      const blockStart = i * this.blockSize;
      const from = Math.max(offset, blockStart);
      const to = Math.min(offset + length, blockStart + block.length);
      out.set(block.subarray(from - blockStart, to - blockStart), from - offset);
    }
    return out;
  }

  async write(_offset: number, _data: Uint8Array): Promise<void> {
    throw new BlockReadOnlyError(`the image at ${this.url}`);
  }

  async flush(): Promise<void> {}

  // ---- Opening ----

  private async probe(): Promise<void> {
    let headSize: number | undefined;
    const head = await this.request('HEAD', undefined, 'HEAD');
    if (head.ok) {
      headSize = contentLength(head.headers);
      const ranges = head.headers.get('accept-ranges')?.toLowerCase().split(',').map((s) => s.trim()) ?? [];
      if (ranges.includes('bytes') && headSize !== undefined) {
        this.size = headSize;
        return;
      }
    } else if (head.status !== 405 && head.status !== 501) {
      // 405/501: the server does not do HEAD; anything else is the answer GET would give too.
      throw this.statusError(head);
    }
    // No announcement either way: one ranged GET of the first block decides.
    const end = this.blockSize - 1;
    const response = await this.request('GET', `bytes=0-${end}`, `the range 0-${end}`);
    if (response.status === 206) {
      const range = parseContentRange(response.headers.get('content-range'));
      const size = range?.size ?? headSize;
      if (size === undefined) {
        await response.body?.cancel();
        throw new HttpImageError(this.url, 'the server answered a range request but says neither the Content-Range nor the Content-Length of the file (a cross-origin server must expose Content-Range)');
      }
      this.size = size;
      const expected = Math.min(this.blockSize, size);
      const body = await this.readBody(response, expected, `the range 0-${expected - 1}`);
      if (body.length !== expected) throw this.shortError(body.length, expected, `the range 0-${expected - 1}`);
      this.remember(0, body);
      return;
    }
    if (response.status === 416) {
      // Not even byte 0 exists.
      await response.body?.cancel();
      throw new HttpImageError(this.url, 'the file is empty (the server has no byte 0 to send)', 416);
    }
    if (response.ok) {
      await this.adoptWholeBody(response);
      return;
    }
    throw this.statusError(response);
  }

  /** A 200 answer to a range request: the whole file, kept in memory if it is not too big. */
  private async adoptWholeBody(response: Response): Promise<void> {
    const declared = contentLength(response.headers);
    if (declared !== undefined && declared > this.wholeDownloadLimit) {
      await response.body?.cancel();
      throw this.tooBigError(declared);
    }
    const body = await this.readBody(response, this.wholeDownloadLimit, 'the whole file', true);
    if (declared !== undefined && body.length !== declared) throw this.shortError(body.length, declared, 'the whole file');
    this.whole = body;
    this.size = body.length;
    this.cache.clear();
    this.cachedBytes = 0;
  }

  // ---- Blocks ----

  /** One promise per block first..last: cached, already in flight, or fetched in runs. */
  private blockPromises(first: number, last: number): Promise<Uint8Array>[] {
    const promises: Promise<Uint8Array>[] = [];
    let runStart = -1;
    const flushRun = (end: number) => {
      if (runStart < 0) return;
      for (let start = runStart; start <= end; start += this.maxBlocksPerRequest) {
        const runEnd = Math.min(end, start + this.maxBlocksPerRequest - 1);
        const run = this.fetchBlocks(start, runEnd);
        for (let i = start; i <= runEnd; i++) promises[i - first] = run[i - start];
      }
      runStart = -1;
    };
    for (let i = first; i <= last; i++) {
      const cached = this.cache.get(i);
      const pending = cached ? undefined : this.inFlight.get(i);
      if (cached || pending) {
        flushRun(i - 1);
        this.stats.blockHits++;
        if (cached) {
          this.cache.delete(i); // most recently used now
          this.cache.set(i, cached);
        }
        promises[i - first] = cached ? Promise.resolve(cached) : pending!;
      } else {
        this.stats.blockMisses++;
        if (runStart < 0) runStart = i;
      }
    }
    flushRun(last);
    return promises;
  }

  /** Fetches blocks first..last with one range request; one promise per block. */
  private fetchBlocks(first: number, last: number): Promise<Uint8Array>[] {
    const start = first * this.blockSize;
    const end = Math.min(this.size, (last + 1) * this.blockSize) - 1;
    const all = this.fetchRange(start, end).then(
      (bytes) => {
        for (let i = first; i <= last; i++) this.inFlight.delete(i);
        if (this.whole) return undefined;
        for (let i = first; i <= last; i++) {
          const from = (i - first) * this.blockSize;
          this.remember(i, bytes.slice(from, Math.min(bytes.length, from + this.blockSize)));
        }
        return bytes;
      },
      (error: unknown) => {
        for (let i = first; i <= last; i++) this.inFlight.delete(i);
        throw error;
      },
    );
    const promises: Promise<Uint8Array>[] = [];
    for (let i = first; i <= last; i++) {
      const from = (i - first) * this.blockSize;
      const p = all.then((bytes) => (bytes ? bytes.subarray(from, Math.min(bytes.length, from + this.blockSize)) : new Uint8Array(0)));
      this.inFlight.set(i, p);
      promises.push(p);
    }
    return promises;
  }

  /** Bytes start..end (inclusive) from the server; one retry when the body comes up short. */
  private async fetchRange(start: number, end: number): Promise<Uint8Array> {
    const what = `the range ${start}-${end}`;
    const expected = end - start + 1;
    for (let attempt = 0; ; attempt++) {
      const response = await this.request('GET', `bytes=${start}-${end}`, what);
      if (response.status === 200) {
        // The server ignored the range after all: take the whole file if allowed.
        await this.adoptWholeBody(response);
        return this.whole!.slice(start, end + 1);
      }
      if (response.status !== 206) throw this.statusError(response);
      const range = parseContentRange(response.headers.get('content-range'));
      if (range && (range.first !== start || range.last !== end)) {
        await response.body?.cancel();
        throw new HttpImageError(this.url, `asked for ${what}, the server sent ${range.first}-${range.last}`);
      }
      try {
        const body = await this.readBody(response, expected, what);
        if (body.length === expected) return body;
        if (attempt > 0) throw this.shortError(body.length, expected, what);
      } catch (error) {
        if (attempt > 0 || !(error instanceof HttpImageError) || error.status !== undefined) throw error;
      }
    }
  }

  private remember(index: number, block: Uint8Array): void {
    const old = this.cache.get(index);
    if (old) {
      this.cachedBytes -= old.length;
      this.cache.delete(index);
    }
    this.cache.set(index, block);
    this.cachedBytes += block.length;
    for (const [i, b] of this.cache) {
      if (this.cachedBytes <= this.cacheBytes || i === index) break;
      this.cache.delete(i);
      this.cachedBytes -= b.length;
    }
  }

  // ---- HTTP ----

  private async request(method: 'GET' | 'HEAD', range: string | undefined, what: string): Promise<Response> {
    this.stats.requests++;
    const headers: Record<string, string> = range ? { Range: range } : {};
    try {
      return await this.fetchFn(this.url, { method, headers });
    } catch (error) {
      throw new HttpImageError(this.url, `network error reading ${what}: ${describe(error)}`);
    }
  }

  /**
   * The response body, at most `limit` bytes: more is an error (with `wholeFile`, the
   * too-big error of a whole download). The download is cancelled as soon as it goes over.
   */
  private async readBody(response: Response, limit: number, what: string, wholeFile = false): Promise<Uint8Array> {
    if (!response.body) return new Uint8Array(0);
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        this.stats.bytesReceived += value.length;
        if (total > limit) {
          await reader.cancel();
          throw wholeFile ? this.tooBigError(undefined) : new HttpImageError(this.url, `the server sent more than the ${limit} bytes of ${what}`);
        }
        chunks.push(value);
      }
    } catch (error) {
      if (error instanceof HttpImageError) throw error;
      throw new HttpImageError(this.url, `the connection broke while reading ${what} (${total} bytes received): ${describe(error)}`);
    }
    if (chunks.length === 1) return chunks[0];
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  private statusError(response: Response): HttpImageError {
    void response.body?.cancel().catch(() => {});
    const text = response.statusText ? ` ${response.statusText}` : '';
    const hint = response.status === 404 ? ' (no such file on the server)' : response.status === 403 ? ' (the server refuses access)' : '';
    return new HttpImageError(this.url, `HTTP ${response.status}${text}${hint}`, response.status);
  }

  private shortError(got: number, expected: number, what: string): HttpImageError {
    return new HttpImageError(this.url, `the server sent ${got} of the ${expected} bytes of ${what} (a truncated response)`);
  }

  private tooBigError(size: number | undefined): HttpImageError {
    const what = size === undefined ? 'more than' : `${size} bytes (${formatSize(size)}),`;
    return new HttpImageError(
      this.url,
      `the server does not support range requests, and the file is ${what} over the ${formatSize(this.wholeDownloadLimit)} limit for downloading an image whole; serve it from a server that answers Range requests`,
    );
  }
}

function positiveInteger(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`${name} must be a positive integer, got ${n}`);
  return n;
}

function formatSize(n: number): string {
  if (n >= 1024 ** 3) return `${+(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${+(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${+(n / 1024).toFixed(1)} KiB`;
}

function contentLength(headers: Headers): number | undefined {
  // A compressed body's length is not the file's.
  const encoding = headers.get('content-encoding');
  if (encoding && encoding.toLowerCase() !== 'identity') return undefined;
  const value = headers.get('content-length');
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

/** `bytes first-last/size` (size may be `*`). */
function parseContentRange(value: string | null): { first: number; last: number; size: number | undefined } | undefined {
  const m = value && /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value);
  if (!m) return undefined;
  return { first: Number(m[1]), last: Number(m[2]), size: m[3] === '*' ? undefined : Number(m[3]) };
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
