/**
 * NODE-ONLY: the page's machine for `webhvm test --browser`: checks that playwright-core, a
 * Chromium and the production build (dist/) are there, serves the build and the configuration's
 * images, opens the page in headless Chromium (`?autoboot=0`: no default guest) and creates the
 * configuration's machine in deterministic mode through window.webhvm. Image paths reach the
 * page as URLs (CreateRequest.imageUrls), so the configuration text goes unchanged and the page
 * resolves, checks and opens the images itself.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { formatDiagnostic } from '../config/diagnostics.ts';
import { readDomainConfigFile, nodeMediaResolver } from '../config/resolve-node.ts';
import { resolveMedia } from '../config/media.ts';
import type { CreateRequest, CreateResult } from '../worker/machine-api.ts';
import { serveForBrowser, type BrowserServer } from './browser-server-node.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_DIST = join(ROOT, 'dist');
const CHROMIUMS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** --browser cannot start here (no playwright-core, no Chromium, no build): exit status 2. */
export class BrowserSetupError extends Error {
  override name = 'BrowserSetupError';
}

/** A configuration or image the page refused (exit status 2). */
export class BrowserCreateError extends Error {
  override name = 'BrowserCreateError';
}

export interface BrowserMachine {
  page: Page;
  server: BrowserServer;
  name: string;
  close(): Promise<void>;
}

export interface BrowserMachineOptions {
  /** The production build (default: the project's dist/). */
  dist?: string;
  /** The browser executable (default: $WEBHVM_CHROMIUM or the system's Chromium). */
  chromium?: string;
  onWarning?: (line: string) => void;
}

export function findChromium(given?: string): string {
  const candidates = given ? [given] : process.env.WEBHVM_CHROMIUM ? [process.env.WEBHVM_CHROMIUM] : CHROMIUMS;
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new BrowserSetupError(`--browser needs Chromium: none at ${candidates.join(', ')} (install it, e.g. apt-get install chromium, or set WEBHVM_CHROMIUM)`);
  }
  return found;
}

async function loadPlaywright(): Promise<typeof import('playwright-core')> {
  try {
    return await import('playwright-core');
  } catch {
    throw new BrowserSetupError('--browser needs the npm package playwright-core (npm install --save-dev playwright-core)');
  }
}

export async function openBrowserMachine(configPath: string, options: BrowserMachineOptions = {}): Promise<BrowserMachine> {
  const playwright = await loadPlaywright();
  const executablePath = findChromium(options.chromium);
  const dist = options.dist ?? DEFAULT_DIST;
  if (!existsSync(join(dist, 'index.html'))) {
    throw new BrowserSetupError(`--browser runs the production build, and ${dist} has none: run 'npm run build' first`);
  }
  // Read and check the configuration here too: its errors and image paths, in the runner's words.
  const config = await readFile(configPath, 'utf8');
  const parsed = await readDomainConfigFile(configPath);
  const warn = options.onWarning ?? ((l: string) => console.error(l));
  for (const w of parsed.warnings) warn(`webhvm: ${formatDiagnostic(basename(configPath), w)}`);
  const server = await serveForBrowser(dist);
  let browser: Browser | undefined;
  try {
    const imageUrls: Record<string, string> = {};
    const files = nodeMediaResolver(configPath);
    await resolveMedia(parsed.config, {
      resolve: async (request) => {
        const source = await files.resolve(request);
        if (source.kind === 'file') imageUrls[request.path] = server.addFile(source.path);
        return source;
      },
    }, { fileName: configPath });
    browser = await playwright.chromium.launch({ executablePath, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    await page.goto(`${server.url}?autoboot=0&deterministic=1`);
    await page.waitForFunction(() => 'webhvm' in window, undefined, { timeout: 60_000 });
    const request: CreateRequest = { config, fileName: basename(configPath), deterministic: true, imageUrls };
    const created = await page.evaluate(
      (r) => (window as unknown as { webhvm: { create(r: CreateRequest): Promise<CreateResult> } }).webhvm.create(r),
      request,
    );
    if (!created.ok) throw new BrowserCreateError(created.message);
    const b = browser;
    return {
      page, server, name: created.name,
      async close() {
        await b.close();
        await server.close();
      },
    };
  } catch (e) {
    await browser?.close().catch(() => undefined);
    await server.close();
    throw e;
  }
}
