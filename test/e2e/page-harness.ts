/**
 * NODE-ONLY test helper for the page's end-to-end tests: builds the default guest and the
 * production page (vite build into a temporary folder), serves it with the isolation headers,
 * and launches Debian's headless Chromium through playwright-core.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { serveStatic, type StaticServer } from './static-server.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Whether the e2e tests can run here (WEBHVM_REQUIRE_IMAGES=1 makes a missing browser a failure). */
export function chromiumRunnable(): boolean {
  return existsSync(CHROMIUM) || process.env.WEBHVM_REQUIRE_IMAGES === '1';
}

export interface PageHarness {
  server: StaticServer;
  browser: Browser;
  close(): Promise<void>;
}

/** Build the default guest and the page, serve the build (`mediaRoot` at /media/), start Chromium. */
export async function startPageHarness(mediaRoot: string, extraArgs: string[] = []): Promise<PageHarness> {
  const guest = spawnSync(process.execPath, [join(ROOT, 'bios/default-guest/build.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (guest.status !== 0) throw new Error(`building the default guest failed:\n${guest.stdout}\n${guest.stderr}`);
  const outDir = mkdtempSync(join(tmpdir(), 'webhvm-dist-'));
  let server: StaticServer | undefined;
  try {
    const built = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`vite build failed:\n${built.stdout}\n${built.stderr}`);
    server = await serveStatic(outDir, mediaRoot);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] });
    const s = server;
    return {
      server: s,
      browser,
      async close() {
        await browser.close();
        await s.close();
        rmSync(outDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await server?.close();
    rmSync(outDir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Polls `probe` every `intervalMs` until it gives something truthy; on timeout the error names
 * `what` and, given the page, the tail of its serial terminal.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false | null>, timeoutMs: number, page?: Page, intervalMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) {
      const tail = page
        ? await page.evaluate(() => (window as unknown as { webhvm?: { serialText(): string } }).webhvm?.serialText().slice(-1500)).catch(() => '')
        : '';
      throw new Error(`timed out waiting for ${what}${page ? `; serial tail:\n${tail}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Everything the page's guest has written to its serial terminal so far. */
export const serialText = (page: Page): Promise<string> =>
  page.evaluate(() => (window as unknown as { webhvm: { serialText(): string } }).webhvm.serialText());

/** Waits for `pattern` in the serial output after offset `after`; returns the match. */
export async function waitSerial(page: Page, pattern: RegExp, after: number, timeoutMs = 120_000): Promise<RegExpExecArray> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const text = (await serialText(page)).slice(after);
    const match = pattern.exec(text);
    if (match) return match;
    if (Date.now() > end) throw new Error(`timed out waiting for ${pattern} on the serial console; serial tail:\n${text.slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Types `line` on COM1 and waits for `pattern` in what follows; returns the match. */
export async function typeAndWait(page: Page, line: string, pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray> {
  const mark = (await serialText(page)).length;
  await page.evaluate((text) => (window as unknown as { webhvm: { serialInput(b: Uint8Array): unknown } }).webhvm.serialInput(new TextEncoder().encode(text)), line);
  return waitSerial(page, pattern, mark, timeoutMs);
}
