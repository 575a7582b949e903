/**
 * The page's display in headless Chromium with the default guest (a VGA text-mode pager):
 * the canvas equals the guest framebuffer after the guest rewrites the screen, with no forced
 * refresh behind it, and an idle text screen repaints only the blinking cursor cell.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumRunnable, startPageHarness, type PageHarness, ROOT, waitFor } from './page-harness.ts';

type Automation = {
  serialText(): string;
  screenText(): Promise<string | null>;
  screenshot(): Uint8Array | null;
  [name: string]: (...args: never[]) => unknown;
};
interface PaintStats {
  frames: number;
  paints: number;
  pixels: number;
}

const suite = chromiumRunnable() ? describe : describe.skip;

const screenText = (page: Page) => page.evaluate(() => (window as unknown as { webhvm: Automation }).webhvm.screenText());
const paintStats = (page: Page) => page.evaluate(() => (window as unknown as { webhvm: { paintStats(): PaintStats } }).webhvm.paintStats());

/** Whether the canvas PNG equals the worker's rendering of the guest framebuffer. */
const canvasMatchesGuest = (page: Page) =>
  page.evaluate(async () => {
    const w = (window as unknown as { webhvm: Automation & { screenshotPng(): Promise<Uint8Array> } }).webhvm;
    const canvas = w.screenshot();
    const guest = await w.screenshotPng();
    return canvas !== null && canvas.length === guest.length && canvas.every((b, i) => b === guest[i]);
  });

suite('the page display in headless Chromium', () => {
  let harness: PageHarness;

  beforeAll(async () => {
    harness = await startPageHarness(ROOT);
  }, 300_000);

  afterAll(async () => {
    await harness?.close();
  });

  it('keeps the canvas equal to the guest text screen by repainting only what changed', async () => {
    const page = await harness.browser.newPage({ viewport: { width: 1200, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(harness.server.url);
    const first = await waitFor('the default guest report on the screen', async () => {
      const text = await screenText(page);
      return text?.includes('HALAACPI.DLL') ? text : undefined;
    }, 5 * 60_000);

    // An idle text screen (the pager waits for a key, halted between timer ticks): only the
    // cursor cell repaints as it blinks.
    const before = await paintStats(page);
    await page.waitForTimeout(4000);
    const after = await paintStats(page);
    const seconds = 4;
    const pixelsPerSecond = (after.pixels - before.pixels) / seconds;
    console.log(`idle text screen: ${after.frames - before.frames} frames looked at, ${after.paints - before.paints} paints, ${pixelsPerSecond.toFixed(0)} pixels/s`);
    expect(after.frames - before.frames).toBeGreaterThan(20);
    // The cursor cell is 9x16 and changes every 8 frames of 70 Hz: ~1260 pixels/s, far below
    // one 720x400 frame (288000 pixels) per second.
    expect(pixelsPerSecond).toBeLessThan(20_000);

    // Paused, the picture settles on exactly the guest's framebuffer within a few frames.
    await page.evaluate(() => (window as unknown as { webhvm: Automation }).webhvm.pause());
    await waitFor('the canvas to equal the guest framebuffer (paused)', () => canvasMatchesGuest(page), 5000);
    await page.evaluate(() => (window as unknown as { webhvm: Automation }).webhvm.resume());

    // A key makes the pager rewrite the screen (the next page, or the same page again).
    await page.locator('#screen').focus();
    await page.keyboard.press('PageDown');
    await page.keyboard.press('PageDown');
    const changed = await waitFor('the next page', async () => {
      const text = await screenText(page);
      return text && text !== first ? text : undefined;
    }, 20_000).catch(() => undefined);
    await page.evaluate(() => (window as unknown as { webhvm: Automation }).webhvm.pause());
    await waitFor('the canvas to equal the guest framebuffer after the rewrite', () => canvasMatchesGuest(page), 5000);
    console.log(`the pager ${changed ? 'showed another page' : 'redrew the same page'}`);
    expect(errors).toEqual([]);
    await page.close();
  }, 8 * 60_000);
});
