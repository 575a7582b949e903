/**
 * The page end to end, in Debian's headless Chromium driven by playwright-core, against the
 * production build (vite build into a temporary folder) served with the isolation headers.
 * One Linux boot carries most proofs: serial and canvas typing, the tablet, CD swap, and the
 * canvas matching the guest framebuffer.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { imagesAvailable, IMAGES } from '../boot/boot-helpers.ts';
import { keyForCharacter } from '../../web/text-keys.ts';
import { containedRect } from '../../web/display-geometry.ts';
import { serveStatic, type StaticServer } from './static-server.ts';
import { waitFor } from './page-harness.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = '/usr/bin/chromium';
const REQUIRED = process.env.WEBHVM_REQUIRE_IMAGES === '1';
const MARKER = 'WEBHVM-GUEST-READY';
/** A Linux boot in the page on a busy 2-core machine can take many minutes. */
const BOOT_MS = 20 * 60_000;

const runnable = existsSync(CHROMIUM) || REQUIRED;
const suite = runnable ? describe : describe.skip;
if (!runnable) console.warn(`test/e2e: skipped: ${CHROMIUM} is missing (apt-get install chromium) and WEBHVM_REQUIRE_IMAGES is unset`);

type Automation = {
  serialText(): string;
  screenText(): Promise<string | null>;
  screenshot(): Uint8Array | null;
  serialInput(bytes: Uint8Array): unknown;
  [name: string]: (...args: never[]) => unknown;
};
declare global {
  interface Window {
    webhvm: Automation;
  }
}

const serial = (page: Page) => page.evaluate(() => window.webhvm.serialText());
const waitSerial = (page: Page, pattern: RegExp, after: number, timeoutMs = 120_000) =>
  waitFor(`${pattern} on the serial console`, async () => pattern.exec((await serial(page)).slice(after)) ?? undefined, timeoutMs, page);

/** Type `text` as physical key presses (Shift held where a US keyboard needs it). */
async function typeKeys(page: Page, text: string): Promise<void> {
  for (const ch of text) {
    const key = keyForCharacter(ch)!;
    if (key.shift) await page.keyboard.down('Shift');
    await page.keyboard.press(key.code);
    if (key.shift) await page.keyboard.up('Shift');
  }
}

suite('the page in headless Chromium', () => {
  let outDir: string;
  let server: StaticServer;
  let plainServer: StaticServer;
  let browser: Browser;

  beforeAll(async () => {
    if (!imagesAvailable('linux.iso', 'linux-pae.iso')) throw new Error(`guest images missing in ${IMAGES}: run bash test/images/build-guests.sh`);
    // The default guest is built from the project's nasm source; the page bundles it when present.
    const guest = spawnSync(process.execPath, [join(ROOT, 'bios/default-guest/build.mjs')], { cwd: ROOT, encoding: 'utf8' });
    if (guest.status !== 0) throw new Error(`building the default guest failed:\n${guest.stdout}\n${guest.stderr}`);
    outDir = mkdtempSync(join(tmpdir(), 'webhvm-dist-'));
    const built = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`vite build failed:\n${built.stdout}\n${built.stderr}`);
    server = await serveStatic(outDir, IMAGES);
    plainServer = await serveStatic(outDir, IMAGES, { isolated: false });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await plainServer?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  async function open(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    (page as Page & { errors: string[] }).errors = errors;
    return page;
  }

  it('says plainly when the page is not cross-origin isolated', async () => {
    const page = await open(plainServer.url);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    const banner = page.locator('#isolation');
    await banner.waitFor({ state: 'visible' });
    expect(await banner.textContent()).toContain('not cross-origin isolated');
    expect(await banner.textContent()).toContain('Cross-Origin-Embedder-Policy: require-corp');
    await page.close();
  });

  it('is cross-origin isolated and, with nothing dropped, boots the default guest: its ACPI summary on the canvas', async () => {
    const page = await open(server.url);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const screen = await waitFor('the default guest summary on the screen', async () => {
      const text = await page.evaluate(() => window.webhvm.screenText());
      return text?.includes('HALAACPI.DLL') ? text : undefined;
    }, 5 * 60_000, page);
    expect(screen).toMatch(/ACPI +RSDP at [0-9A-F]{8}/);
    expect(screen).toContain('MADT: 1 local APIC');
    await waitSerial(page, /WEBHVM-DEFAULT-GUEST-DONE/, 0);
    expect(await page.evaluate(() => window.webhvm.status())).toMatchObject({ power: 'running', name: 'default-guest' });
    expect(await page.locator('#drop-hint').isVisible()).toBe(false);
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    await page.evaluate(() => window.webhvm.powerOff());
    await page.close();
  }, 6 * 60_000);

  it('boots an ISO dropped on the page (a synthetic drop event)', async () => {
    const page = await open(server.url);
    await page.evaluate(async (url) => {
      const file = new File([await (await fetch(url)).blob()], 'linux.iso');
      const data = new DataTransfer();
      data.items.add(file);
      document.body.dispatchEvent(new DragEvent('dragenter', { dataTransfer: data, bubbles: true, cancelable: true }));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, `${server.url}media/linux.iso`);
    // SeaBIOS loads ISOLINUX from the dropped file, which announces itself on COM1.
    await waitSerial(page, /ISOLINUX/, 0, 5 * 60_000);
    const status = await page.evaluate(() => window.webhvm.status()) as { power: string; diskReads: number; cdroms: unknown };
    expect(status.power).toBe('running');
    expect(status.diskReads).toBeGreaterThan(0);
    expect(status.cdroms).toEqual([{ vdev: 'hdc', present: true }]);
    await page.evaluate(() => window.webhvm.powerOff());
    await page.close();
  }, 6 * 60_000);

  it('boots Linux from the file picker; terminal, canvas keyboard, tablet, CD swap and screenshot all reach the guest', async () => {
    const page = await open(server.url);
    await page.setInputFiles('#open-file', join(IMAGES, 'linux.iso'));
    await waitSerial(page, new RegExp(MARKER), 0, BOOT_MS);
    // The shell on COM1 is up once its prompt shows.
    let mark = (await serial(page)).indexOf(MARKER);
    await waitSerial(page, /\/ # /, mark, 5 * 60_000);

    // 1. Typing into the xterm terminal reaches the serial shell.
    await page.locator('#terminal .xterm-helper-textarea').focus();
    mark = (await serial(page)).length;
    await page.keyboard.type('echo term=$((6*7))\n');
    await waitSerial(page, /term=42/, mark);

    // 2. Typing on the canvas reaches the shell on the first virtual terminal (VGA text screen).
    await page.locator('#screen').focus();
    await typeKeys(page, 'echo canvas=$((7*8))\n');
    await waitFor('canvas=56 on the text screen', async () => (await page.evaluate(() => window.webhvm.screenText()))?.includes('canvas=56'), 120_000, page);
    expect(await page.locator('[data-status="video"]').textContent()).toBe('text 80x25');

    // 3. The tablet: the guest's evdev sees absolute coordinates where the pointer is.
    const send = async (line: string) => {
      await page.locator('#terminal .xterm-helper-textarea').focus();
      const at = (await serial(page)).length;
      await page.keyboard.type(line);
      return at;
    };
    mark = await send('show-input Tablet 15\n');
    await waitSerial(page, /show-input: recording/, mark);
    const box = (await page.locator('#screen').boundingBox())!;
    const size = await page.evaluate(() => { const c = document.getElementById('screen') as HTMLCanvasElement; return [c.width, c.height]; });
    const picture = containedRect(box.width, box.height, size[0], size[1]);
    const fx = 0.25, fy = 0.75;
    await page.mouse.move(box.x + picture.x + picture.width * 0.5, box.y + picture.y + picture.height * 0.5);
    await page.mouse.move(box.x + picture.x + picture.width * fx, box.y + picture.y + picture.height * fy, { steps: 4 });
    const done = await waitSerial(page, /show-input: done/, mark, 120_000);
    const log = (await serial(page)).slice(mark, mark + done.index);
    const abs = (code: number) => [...log.matchAll(new RegExp(`input-event 3 ${code} (\\d+)`, 'g'))].map((m) => Number(m[1]));
    const xs = abs(0), ys = abs(1);
    expect(xs.length, log).toBeGreaterThan(0);
    expect(ys.length, log).toBeGreaterThan(0);
    expect(Math.abs(xs[xs.length - 1] / 0x7fff - fx)).toBeLessThan(0.01);
    expect(Math.abs(ys[ys.length - 1] / 0x7fff - fy)).toBeLessThan(0.01);

    // 4. Eject and insert: the guest's CD drive loses its disc, then sees the other one (Linux
    // re-reads the capacity when it opens a drive whose medium changed; it keeps the old value
    // while the drive is empty, so emptiness shows as the failed open).
    const cd = async () => {
      const at = await send('dd if=/dev/sr0 of=/dev/null bs=2048 count=1 2>&1 | tail -n 1; echo cd-sectors=$(cat /sys/block/sr0/size)\n');
      const m = await waitSerial(page, /cd-sectors=(\d+)/, at);
      return { sectors: Number(m[1]), dd: (await serial(page)).slice(at, at + m.index) };
    };
    const first = await cd();
    expect(first.sectors * 512).toBe(statSync(join(IMAGES, 'linux.iso')).size);
    expect(first.dd).toMatch(/1\+0 records out/);
    await page.locator('#eject').click();
    await waitFor('the drive to be empty', async () => (await page.evaluate(() => window.webhvm.status()) as { cdroms: { present: boolean }[] }).cdroms[0].present === false, 10_000);
    expect((await cd()).dd).toMatch(/No medium found/);
    await page.setInputFiles('#insert-cd', join(IMAGES, 'linux-pae.iso'));
    await waitFor('the new disc', async () => (await page.evaluate(() => window.webhvm.status()) as { cdroms: { present: boolean }[] }).cdroms[0].present, 10_000);
    const second = await cd();
    expect(second.sectors * 512).toBe(statSync(join(IMAGES, 'linux-pae.iso')).size);
    expect(second.dd).toMatch(/1\+0 records out/);

    // 5. The canvas shows exactly the guest framebuffer (compared while paused, so the cursor
    // blink phase cannot differ between the two renderings; the page paints the paused machine's
    // last picture within a few animation frames).
    await page.evaluate(() => window.webhvm.pause());
    const compare = () => page.evaluate(async () => {
      const canvas = window.webhvm.screenshot()!;
      const guest = (await window.webhvm.screenshotPng()) as Uint8Array;
      return { equal: canvas.length === guest.length && canvas.every((b, i) => b === guest[i]), canvasBytes: canvas.length, guestBytes: guest.length };
    });
    let same = await compare();
    for (const end = Date.now() + 10_000; !same.equal && Date.now() < end; same = await compare()) await page.waitForTimeout(250);
    expect(same.equal, `canvas PNG ${same.canvasBytes} bytes, guest PNG ${same.guestBytes} bytes`).toBe(true);
    expect(same.canvasBytes).toBeGreaterThan(1000);
    await page.evaluate(() => window.webhvm.resume());
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    await page.evaluate(() => window.webhvm.powerOff());
    await page.close();
  }, BOOT_MS + 10 * 60_000);
});
