/**
 * Reproducible boots across Node and the browser: the Linux CD booted in deterministic mode in
 * headless Chromium (the production page, `?deterministic=1`, window.webhvm.runUntil) stops at
 * the shell marker with the fingerprint `webhvm run --deterministic --until <marker>` prints in
 * Node for the same configuration and ISO. (test/boot/reproducible.test.ts shows two Node runs
 * agree.) And the page's switch: `?deterministic=1` boots the default guest deterministically.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { imagesAvailable, image, IMAGES, runWebhvm, writeConfig } from '../boot/boot-helpers.ts';
import { chromiumRunnable, startPageHarness, type PageHarness } from './page-harness.ts';

// The guest prints the marker, then "uname-r: ..." and "cpus: 1": stop at the last of them.
const END = 'cpus: [0-9]';
const FINGERPRINT = /^fingerprint: insns=\d+ serial=[0-9a-f]{16} screen=[0-9a-f]{16} ram=[0-9a-f]{16}$/m;
const BOOT_MS = 40 * 60_000;

type RunResult = { end: string; error?: string; insns: string };
type Hvm = {
  create(request: unknown): Promise<{ ok: boolean; message?: string }>;
  runUntil(request: unknown): Promise<RunResult>;
  fingerprint(): Promise<string | null>;
  status(): Promise<{ deterministic: boolean; power: string }>;
  serialLog(): Promise<string | null>;
};
type HvmWindow = { webhvm?: Hvm };

const suite = chromiumRunnable() && imagesAvailable('linux.iso') ? describe : describe.skip;

suite('the same deterministic Linux boot in Node and in Chromium', () => {
  let harness: PageHarness;

  beforeAll(async () => {
    harness = await startPageHarness(IMAGES);
  }, 300_000);

  afterAll(async () => {
    await harness?.close();
  });

  it('?deterministic=1 turns the switch on and boots the default guest deterministically, as the status bar says', async () => {
    const page: Page = await harness.browser.newPage();
    await page.goto(`${harness.server.url}?deterministic=1`);
    await page.waitForFunction(() => (window as unknown as HvmWindow).webhvm !== undefined);
    expect(await page.isChecked('#deterministic')).toBe(true);
    await page.waitForFunction((done) => ((window as unknown as { webhvm: { serialText(): string } }).webhvm.serialText()).includes(done), 'WEBHVM-DEFAULT-GUEST-DONE', { timeout: 300_000 });
    expect((await page.evaluate(() => (window as unknown as HvmWindow).webhvm!.status())).deterministic).toBe(true);
    await page.waitForSelector('[data-status="deterministic"]:not([hidden])');
    expect(await page.textContent('[data-status="deterministic"]')).toBe('deterministic');
    expect(await page.evaluate(() => (window as unknown as HvmWindow).webhvm!.fingerprint())).toMatch(FINGERPRINT);
    // Unchecked, the URL forgets it and the next boot is in real time.
    await page.uncheck('#deterministic');
    expect(new URL(page.url()).searchParams.has('deterministic')).toBe(false);
    await page.close();
  }, 600_000);

  it('gives equal fingerprints at the shell marker', async () => {
    const configText = "name = 'repro'\nbuilder = 'hvm'\nmemory = 128\nacpi = 0\napic = 0\nvcpus = 1\nserial = 'pty'\non_reboot = 'destroy'\n" +
      `boot = 'd'\ndisk = [ 'file:${image('linux.iso')},hdc:cdrom,r' ]\n`;
    const cfg = writeConfig(configText);

    const node = await runWebhvm([cfg, '--deterministic', '--quiet', '--until', END, '--timeout', '2400']);
    expect(node.stdout).toContain('webhvm: repro ended: matched');
    const expected = FINGERPRINT.exec(node.stdout)?.[0];
    expect(expected).toBeDefined();

    const page: Page = await harness.browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${harness.server.url}?autoboot=0&deterministic=1`);
    await page.waitForFunction(() => (window as unknown as HvmWindow).webhvm !== undefined);
    // The configuration text as Node read it; the ISO's path is served at /media/.
    const created = await page.evaluate(
      ({ config, path, url }) => (window as unknown as HvmWindow).webhvm!.create({ config, fileName: 'repro.cfg', deterministic: true, imageUrls: { [path]: url } }),
      { config: configText, path: image('linux.iso'), url: `${harness.server.url}media/linux.iso` },
    );
    expect(created.message ?? '').toBe('');
    expect(created.ok).toBe(true);
    const result = await page.evaluate((end) => (window as unknown as HvmWindow).webhvm!.runUntil({ serial: end, serialFromPowerOn: true, timeoutMs: 2_400_000 }), END);
    const tail = result.end === 'matched' ? '' : ((await page.evaluate(() => (window as unknown as HvmWindow).webhvm!.serialLog())) ?? '').slice(-2000);
    expect(result.end, `${result.error ?? ''}\n${tail}`).toBe('matched');
    expect((await page.evaluate(() => (window as unknown as HvmWindow).webhvm!.status())).deterministic).toBe(true);
    const browserFingerprint = await page.evaluate(() => (window as unknown as HvmWindow).webhvm!.fingerprint());
    expect(browserFingerprint).toBe(expected);
    expect(errors).toEqual([]);
    await page.close();
  }, BOOT_MS);
});
