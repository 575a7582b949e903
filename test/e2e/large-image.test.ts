/**
 * A 4 GiB disk image given to the page (a sparse file made here) is read lazily: the firmware
 * sees the disk and reads it, the default guest boots next to it, and the page's memory grows
 * by far less than the image's size.
 */
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumRunnable, ROOT, startPageHarness, type PageHarness, waitFor } from './page-harness.ts';

const IMAGE_BYTES = 4 * 1024 ** 3;
/** The most the page's JS heap may grow while the machine runs with the image: 1/64 of its size. */
const HEAP_GROWTH_LIMIT = IMAGE_BYTES / 64;

const suite = chromiumRunnable() ? describe : describe.skip;

type Status = { power: string; name: string; diskReads: number; bootPath: string[] };
/** The page's automation object, as far as this test uses it (page.test.ts declares the global). */
type Hvm = { serialText(): string; status(): Promise<Status>; powerOff(): Promise<void> };
type HvmWindow = { webhvm?: Hvm };

suite('a 4 GiB disk image in the page', () => {
  let dir: string;
  let harness: PageHarness;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'webhvm-large-'));
    // Eager memory measurement: measureUserAgentSpecificMemory answers at once instead of at the next GC.
    harness = await startPageHarness(dir, ['--enable-blink-features=ForceEagerMeasureMemory']);
  }, 180_000);

  afterAll(async () => {
    await harness?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is read lazily: SeaBIOS reads the disk, the default guest boots, the heap stays small', async () => {
    const image = join(dir, 'big.img');
    writeFileSync(image, '');
    truncateSync(image, IMAGE_BYTES); // sparse: no blocks on the host disk
    // The default guest's configuration with the big disk first in the boot order: SeaBIOS finds
    // it blank ("not a bootable disk") and goes on to the floppy.
    const config = join(dir, 'large.cfg');
    const defaultConfig = readFileSync(join(ROOT, 'examples/default-guest.cfg'), 'utf8');
    writeFileSync(config, defaultConfig.replace(/^name = .*$/m, 'name = "large-disk"').replace(/^boot = .*$/m, "boot = 'ca'") + "disk = [ 'big.img,hda,w' ]\n");

    const page: Page = await harness.browser.newPage({ viewport: { width: 1200, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(harness.server.url);
    await waitFor('the page to start the default guest', async () => (await page.evaluate(() => (window as unknown as HvmWindow).webhvm?.status()))?.power === 'running', 60_000);
    const cdp = await page.context().newCDPSession(page);
    const heap = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      return (await cdp.send('Runtime.getHeapUsage')).usedSize;
    };
    // The page's and its worker's memory (cross-origin isolated pages may measure it).
    const allMemory = () => page.evaluate(async () => {
      const measure = (performance as unknown as { measureUserAgentSpecificMemory(): Promise<{ bytes: number }> }).measureUserAgentSpecificMemory;
      return (await measure.call(performance)).bytes;
    });
    const before = await heap();
    const allBefore = await allMemory();

    await page.setInputFiles('#open-file', [config, image, join(ROOT, 'build/default-guest.img')]);
    const status = await waitFor('SeaBIOS to read the disk and boot the floppy', async () => {
      const s = await page.evaluate(() => (window as unknown as HvmWindow).webhvm!.status());
      return s.name === 'large-disk' && s.diskReads > 0 && /WEBHVM-DEFAULT-GUEST-DONE/.test(await page.evaluate(() => (window as unknown as HvmWindow).webhvm!.serialText())) && s;
    }, 45_000);
    const after = await heap();
    const allAfter = await allMemory();
    console.log(`large-image: page heap ${before} -> ${after} bytes, page and worker ${allBefore} -> ${allAfter} bytes, ${status.diskReads} disk reads`);
    await page.evaluate(() => (window as unknown as HvmWindow).webhvm!.powerOff());

    expect(status.power).toBe('running');
    expect(status.bootPath).toContain('booting from: Floppy');
    expect(after - before, `heap grew from ${before} to ${after} bytes`).toBeLessThan(HEAP_GROWTH_LIMIT);
    // The new machine's guest RAM (128 MiB) and VRAM (16 MiB) are shared memory the measurement
    // may count; the image must not add its size on top.
    expect(allAfter - allBefore, `page and worker memory grew from ${allBefore} to ${allAfter} bytes`).toBeLessThan(HEAP_GROWTH_LIMIT);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});
