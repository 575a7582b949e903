/**
 * Disks and snapshots kept in the browser, end to end in headless Chromium (the production page):
 * - Linux on the hard-disk image writes a file and syncs; after a page reload the same image,
 *   picked again, boots with the file there (the overlay lives in OPFS). The Disks panel exports
 *   the merged disk (with the file), discards the overlay (the export is then the clean image),
 *   and the user's image file is never written.
 * - The default guest, deterministic, saved into the browser part-way; after a reload, restored
 *   from the Snapshots list, it reaches its end marker with the fingerprint of the run that was
 *   never interrupted. A corrupt snapshot dropped on the page is refused with a visible message.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { imagesAvailable, image } from '../boot/boot-helpers.ts';
import { chromiumRunnable, ROOT, startPageHarness, type PageHarness, waitFor } from './page-harness.ts';

const MARKER = 'WEBHVM-GUEST-READY';
const DONE = 'WEBHVM-DEFAULT-GUEST-DONE';
const BOOT_MS = 20 * 60_000;

type Hvm = {
  serialText(): string;
  serialInput(bytes: Uint8Array): Promise<void>;
  status(): Promise<{ power: string; message: string }>;
  pause(): Promise<void>;
  powerOff(): Promise<void>;
  listOverlays(): Promise<{ key: string; storedBlocks: number; where: string; inUse: boolean }[]>;
  create(request: unknown): Promise<{ ok: boolean; message?: string }>;
  runUntil(request: unknown): Promise<{ end: string }>;
  fingerprint(): Promise<string | null>;
  saveSnapshot(): Promise<Uint8Array>;
};
/** Inside page.evaluate: `(window as unknown as HvmWindow).webhvm` (the callback runs in the page). */
type HvmWindow = { webhvm: Hvm };

const suite = chromiumRunnable() && imagesAvailable('linux-hd.img') ? describe : describe.skip;
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const serial = (page: Page) => page.evaluate(() => (window as unknown as HvmWindow).webhvm.serialText());
const waitSerial = (page: Page, pattern: RegExp, after: number, timeoutMs = 120_000) =>
  waitFor(`${pattern} on the serial console`, async () => pattern.exec((await serial(page)).slice(after)) ?? undefined, timeoutMs, page);

/** Type a shell command on COM1 and wait for `answer` after it. */
async function shell(page: Page, command: string, answer: RegExp, timeoutMs = 120_000): Promise<string> {
  const at = (await serial(page)).length;
  await page.evaluate((t) => (window as unknown as HvmWindow).webhvm.serialInput(new TextEncoder().encode(t)), `${command}\n`);
  const m = await waitSerial(page, answer, at, timeoutMs);
  return m[0];
}

/** Pick the configuration and its image with the page's file picker; the guest's shell comes up. */
async function bootLinux(page: Page, files: string[]): Promise<void> {
  const mark = (await serial(page)).length;
  await page.setInputFiles('#open-file', files);
  const ready = await waitSerial(page, new RegExp(MARKER), mark, BOOT_MS);
  await waitSerial(page, /\/ # /, mark + ready.index, 5 * 60_000);
}

/** Click an export button in the Disks panel and read the downloaded file. */
async function exportFromPanel(page: Page, key: string, action: string, dir: string): Promise<Buffer> {
  const row = page.locator(`#disks tr[data-overlay="${key}"]`);
  await row.waitFor();
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), row.locator(`button[data-action="${action}"]`).click()]);
  const path = join(dir, `${action}-${Date.now()}.bin`);
  await download.saveAs(path);
  return readFileSync(path);
}

suite('disks and snapshots kept in the browser', () => {
  let harness: PageHarness;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'webhvm-persist-'));
    harness = await startPageHarness(dir);
    // Built by the harness; served at /media/ for the snapshot test.
    copyFileSync(join(ROOT, 'build/default-guest.img'), join(dir, 'default-guest.img'));
  }, 300_000);

  afterAll(async () => {
    await harness?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps what Linux wrote and synced across a reload; exports the merged disk; discards back to the clean image', async () => {
    const original = readFileSync(image('linux-hd.img'));
    const originalHash = sha(original);
    const cfg = join(dir, 'persist.cfg');
    writeFileSync(cfg, "name = 'persist'\nbuilder = 'hvm'\nmemory = 128\nacpi = 0\napic = 0\nvcpus = 1\nserial = 'pty'\nboot = 'c'\ndisk = [ 'linux-hd.img,hda,w' ]\n");
    const files = [cfg, image('linux-hd.img')];
    const page = await harness.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('dialog', (d) => void d.accept()); // the Discard confirmation
    await page.goto(`${harness.server.url}?autoboot=0`);

    await bootLinux(page, files);
    await shell(page, 'mount -t vfat /dev/sda1 /mnt && echo persisted-$((6*7)) > /mnt/persist.txt && sync && umount /mnt && echo WROTE-$((40+2))', /WROTE-42/);
    const kept = await page.evaluate(() => (window as unknown as HvmWindow).webhvm.listOverlays());
    expect(kept).toEqual([expect.objectContaining({ key: 'persist.hda', where: 'opfs', inUse: true })]);
    expect(kept[0].storedBlocks).toBeGreaterThan(0);

    // Reload: a new worker, nothing in memory; the same file picked again finds its overlay.
    await page.reload();
    await bootLinux(page, files);
    await shell(page, 'mount -t vfat /dev/sda1 /mnt && cat /mnt/persist.txt && umount /mnt', /persisted-42/);

    // The Disks panel: export the disk as the guest sees it (machine off), then discard.
    await page.evaluate(() => (window as unknown as HvmWindow).webhvm.powerOff());
    await page.locator('#disks summary').click();
    const merged = await exportFromPanel(page, 'persist.hda', 'export-merged', dir);
    expect(merged.length).toBe(original.length);
    expect(merged.includes(Buffer.from('persisted-42'))).toBe(true);
    const overlayOnly = await exportFromPanel(page, 'persist.hda', 'export-overlay', dir);
    expect(overlayOnly.subarray(0, 8).toString('latin1')).toBe('WHVMOVB1');
    expect(overlayOnly.length).toBeLessThan(original.length);
    await page.locator('#disks tr[data-overlay="persist.hda"] button[data-action="discard"]').click();
    await waitFor('the discarded overlay to be empty', async () => (await page.evaluate(() => (window as unknown as HvmWindow).webhvm.listOverlays()))[0]?.storedBlocks === 0, 30_000);
    const clean = await exportFromPanel(page, 'persist.hda', 'export-merged', dir);
    expect(sha(clean)).toBe(originalHash);
    // The user's image was only ever read.
    expect(sha(readFileSync(image('linux-hd.img')))).toBe(originalHash);
    expect(errors).toEqual([]);
    await page.close();
  }, 2 * BOOT_MS + 10 * 60_000);

  it('restores a snapshot saved in the browser after a reload, to the same ending; refuses a corrupt one visibly', async () => {
    const config = readFileSync(join(ROOT, 'examples/default-guest.cfg'), 'utf8');
    const request = { config, fileName: 'default-guest.cfg', deterministic: true, imageUrls: { '../build/default-guest.img': `${harness.server.url}media/default-guest.img` } };
    const page = await harness.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${harness.server.url}?autoboot=0&deterministic=1`);
    await page.waitForFunction(() => (window as unknown as Partial<HvmWindow>).webhvm !== undefined);
    const create = async () => {
      const r = await page.evaluate((req) => (window as unknown as HvmWindow).webhvm.create(req), request);
      expect(r.ok, r.message).toBe(true);
    };
    await create();
    expect((await page.evaluate(() => (window as unknown as HvmWindow).webhvm.runUntil({ insns: '20000000', timeoutMs: 120_000 }))).end).toBe('reached');
    await page.locator('#snapshots summary').click();
    await page.locator('[data-snapshot="name"]').fill('part way');
    await page.locator('[data-snapshot="store"]').click();
    await page.locator('#snapshots li[data-snapshot="part way"]').waitFor({ timeout: 60_000 });
    expect((await page.evaluate(() => (window as unknown as HvmWindow).webhvm.runUntil({ serial: 'WEBHVM-DEFAULT-GUEST-DONE', serialFromPowerOn: true, timeoutMs: 120_000 }))).end).toBe('matched');
    const uninterrupted = await page.evaluate(() => (window as unknown as HvmWindow).webhvm.fingerprint());
    expect(uninterrupted).toMatch(/^fingerprint: insns=\d+/);

    await page.reload();
    await page.waitForFunction(() => (window as unknown as Partial<HvmWindow>).webhvm !== undefined);
    await create();
    await page.locator('#snapshots summary').click();
    await page.locator('#snapshots li[data-snapshot="part way"] button[data-action="restore"]').click();
    await waitFor('the restored machine', async () => (await page.evaluate(() => (window as unknown as HvmWindow).webhvm.status())).message.includes('snapshot restored'), 60_000);
    expect(await page.locator('[data-snapshot="status"]').textContent()).toContain('restored part way');
    const restoredAt = await page.evaluate(() => (window as unknown as HvmWindow).webhvm.fingerprint());
    expect(restoredAt).not.toBe(uninterrupted);
    expect((await page.evaluate(() => (window as unknown as HvmWindow).webhvm.runUntil({ serial: 'WEBHVM-DEFAULT-GUEST-DONE', serialFromPowerOn: true, timeoutMs: 120_000 }))).end).toBe('matched');
    expect(await page.evaluate(() => (window as unknown as HvmWindow).webhvm.fingerprint())).toBe(uninterrupted);

    // A damaged snapshot dropped on the page: refused, said on the page, the machine as it was.
    const before = await page.evaluate(() => (window as unknown as HvmWindow).webhvm.fingerprint());
    await page.evaluate(async () => {
      const bytes = await (window as unknown as HvmWindow).webhvm.saveSnapshot();
      bytes[bytes.length >> 1] ^= 0xff;
      const data = new DataTransfer();
      data.items.add(new File([bytes as BlobPart], 'damaged.webhvmss'));
      document.body.dispatchEvent(new DragEvent('dragenter', { dataTransfer: data, bubbles: true, cancelable: true }));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await waitFor('the refusal on the page', async () => /corrupt/.test((await page.locator('#page-message').textContent()) ?? ''), 30_000);
    expect(await page.locator('[data-snapshot="status"]').textContent()).toMatch(/^refused: snapshot .*corrupt/);
    expect(await page.evaluate(() => (window as unknown as HvmWindow).webhvm.fingerprint())).toBe(before);
    expect(await page.evaluate(() => (window as unknown as HvmWindow).webhvm.status().then((s) => s.power))).toBe('paused');
    expect(errors).toEqual([]);
    await page.close();
  }, 10 * 60_000);
});
