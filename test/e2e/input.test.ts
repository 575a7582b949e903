/**
 * The page's input path end to end, in Debian's headless Chromium against the production build:
 * one Linux boot with no USB tablet (so the pointer is the PS/2 mouse) and `keymap = 'de'`.
 * - the serial terminal: text pasted into it reaches the guest shell, and Ctrl-Shift-C copies
 *   the terminal's selection to the clipboard;
 * - keymap: webhvm.sendKeys types for the configured layout (a German 'y' is the key a US
 *   guest reads as 'z');
 * - pointer lock: a click on the canvas locks the pointer; locked moves, a click and the wheel
 *   reach the guest's PS/2 mouse driver (psmouse, loaded from a CD built here from the guest
 *   kernel's own package, as the test initramfs does not carry it), and the guest's evdev sums
 *   the motion exactly as the page moved;
 * - Keyboard Lock: feature-detected, and in full-screen locked where the browser has it.
 * Not testable headless: that the browser's own Escape ends pointer lock (a synthetic Escape
 * is not the browser's key), and which keys a granted Keyboard Lock really passes.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { imagesAvailable, IMAGES } from '../boot/boot-helpers.ts';
import { chromiumRunnable, startPageHarness, type PageHarness, waitFor } from './page-harness.ts';

const MARKER = 'WEBHVM-GUEST-READY';
/** A Linux boot in the page on a busy 2-core machine can take many minutes. */
const BOOT_MS = 20 * 60_000;

const suite = chromiumRunnable() ? describe : describe.skip;

type Automation = { serialText(): string; [name: string]: (...args: never[]) => unknown };

const serial = (page: Page) => page.evaluate(() => (window as unknown as { webhvm: Automation }).webhvm.serialText());
const waitSerial = (page: Page, pattern: RegExp, after: number, timeoutMs = 120_000) =>
  waitFor(`${pattern} on the serial console`, async () => pattern.exec((await serial(page)).slice(after)) ?? undefined, timeoutMs, page);

/** A CD holding psmouse.ko from the guest kernel's package (test/images/out/debs). */
function buildPsmouseCd(work: string): string {
  const debDir = join(IMAGES, 'debs', 'linux-image-6.1.0-50-686');
  const deb = existsSync(debDir) ? readdirSync(debDir).find((f) => f.endsWith('.deb')) : undefined;
  if (!deb) throw new Error(`no kernel package in ${debDir}: run bash test/images/build-guests.sh`);
  const tree = join(work, 'tree');
  mkdirSync(tree);
  const extract = spawnSync('sh', ['-c', `dpkg-deb --fsys-tarfile "$1" | tar -x -C "$2" --wildcards '*/psmouse.ko'`, 'sh', join(debDir, deb), tree], { encoding: 'utf8' });
  if (extract.status !== 0) throw new Error(`extracting psmouse.ko failed: ${extract.stderr}`);
  const found = spawnSync('find', [tree, '-name', 'psmouse.ko'], { encoding: 'utf8' }).stdout.trim();
  const cdRoot = join(work, 'cd');
  mkdirSync(cdRoot);
  spawnSync('cp', [found, cdRoot]);
  const iso = join(work, 'psmouse.iso');
  const made = spawnSync('xorriso', ['-as', 'mkisofs', '-quiet', '-o', iso, cdRoot], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`xorriso failed (apt-get install xorriso): ${made.stderr}`);
  return iso;
}

const CONFIG = [
  "name = 'ps2-input'", "builder = 'hvm'", 'memory = 128', 'vcpus = 1', 'acpi = 1', 'apic = 1', "boot = 'd'",
  "disk = [ 'file:linux.iso,hdc:cdrom,r' ]", "serial = 'pty'", "keymap = 'de'", "on_reboot = 'restart'",
].join('\n');

suite('the page input path in headless Chromium', () => {
  let harness: PageHarness;
  let work: string;
  let psmouseIso: string;

  beforeAll(async () => {
    if (!imagesAvailable('linux.iso')) throw new Error(`guest images missing in ${IMAGES}: run bash test/images/build-guests.sh`);
    work = mkdtempSync(join(tmpdir(), 'webhvm-input-'));
    psmouseIso = buildPsmouseCd(work);
    harness = await startPageHarness(IMAGES);
  }, 240_000);

  afterAll(async () => {
    await harness?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('serial paste and copy, keymap typing, pointer lock to the PS/2 mouse, Keyboard Lock', async () => {
    const context = await harness.browser.newContext({ viewport: { width: 1400, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: harness.server.url.replace(/\/$/, '') });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(harness.server.url);

    // Keyboard Lock is feature-detected at start: the state shows whether the browser has it.
    const hasKeyboardLock = await page.evaluate(() => typeof (navigator as Navigator & { keyboard?: { lock?: unknown } }).keyboard?.lock === 'function');
    expect(await page.locator('#screen').getAttribute('data-keyboard-lock')).toBe(hasKeyboardLock ? 'unlocked' : 'unsupported');

    const booted = await page.evaluate(async (config) => {
      const iso = new File([await (await fetch('/media/linux.iso')).blob()], 'linux.iso');
      return (window as unknown as { webhvm: { bootFiles(f: File[]): Promise<boolean> } }).webhvm.bootFiles([new File([config], 'ps2-input.cfg'), iso]);
    }, CONFIG);
    expect(booted).toBe(true);
    const status = await page.evaluate(() => (window as unknown as { webhvm: Automation }).webhvm.status()) as { pointer: string; keymap: string };
    expect(status).toMatchObject({ pointer: 'ps2-mouse', keymap: 'de' });

    await waitSerial(page, new RegExp(MARKER), 0, BOOT_MS);
    let mark = (await serial(page)).indexOf(MARKER);
    await waitSerial(page, /\/ # /, mark, 5 * 60_000);
    const terminal = page.locator('#terminal .xterm-helper-textarea');

    // 1. Paste into the terminal: the text reaches the guest's shell through the input ring.
    await terminal.focus();
    mark = (await serial(page)).length;
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.setData('text/plain', 'echo pasted=$((5*5))\n');
      document.querySelector('#terminal .xterm-helper-textarea')!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    });
    await waitSerial(page, /pasted=25/, mark);

    // 2. Copy: select the terminal's visible text with the mouse, Ctrl-Shift-C puts it on the clipboard.
    const screen = (await page.locator('#terminal .xterm-screen').boundingBox())!;
    await page.mouse.move(screen.x + 2, screen.y + 2);
    await page.mouse.down();
    await page.mouse.move(screen.x + screen.width - 2, screen.y + screen.height - 2, { steps: 5 });
    await page.mouse.up();
    await terminal.focus();
    await page.keyboard.press('Control+Shift+KeyC');
    const copied = await waitFor('the selection on the clipboard', () => page.evaluate(() => navigator.clipboard.readText().then((t) => (t.includes('pasted=25') ? t : ''))), 10_000);
    expect(copied).toContain('echo pasted=$((5*5))');

    // 3. keymap='de': sendKeys types German key positions. The guest's console (the shell on the
    // first virtual terminal) is US, so the German 'y' and 'z' (the keys a US keyboard calls Z
    // and Y) come out swapped there.
    await page.evaluate(() => (window as unknown as { webhvm: { sendKeys(t: string): Promise<void> } }).webhvm.sendKeys('echo yzzy42\n'));
    await waitFor('zyyz42 printed on the text screen', async () => {
      const text = await page.evaluate(() => (window as unknown as { webhvm: { screenText(): Promise<string | null> } }).webhvm.screenText());
      return text && /^zyyz42\s*$/m.test(text);
    }, 120_000, page);

    // 4. The PS/2 mouse: load psmouse from the second CD, record its events, move it pointer-locked.
    const send = async (line: string) => {
      await terminal.focus();
      const at = (await serial(page)).length;
      await page.keyboard.type(line);
      return at;
    };
    await page.setInputFiles('#insert-cd', psmouseIso);
    await waitFor('the psmouse CD', async () => (await page.evaluate(() => (window as unknown as { webhvm: Automation }).webhvm.status()) as { cdroms: { present: boolean }[] }).cdroms[0].present, 10_000);
    mark = await send('mount -t iso9660 -o ro /dev/sr0 /mnt && insmod /mnt/psmouse.ko && sleep 2 && grep -il ps/2 /sys/class/input/*/name && echo psmouse-loaded\n');
    await waitSerial(page, /psmouse-loaded/, mark, 120_000);
    mark = await send('show-input PS/2 20\n');
    await waitSerial(page, /show-input: recording/, mark);

    const box = (await page.locator('#screen').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.up();
    await waitFor('pointer lock on the canvas', () => page.evaluate(() => document.pointerLockElement?.id === 'screen'), 5_000);
    // Moves while locked: the page sums movementX/Y as Chromium reports them.
    await page.evaluate(() => {
      const sum = { x: 0, y: 0 };
      (window as unknown as { movedSum: typeof sum }).movedSum = sum;
      document.getElementById('screen')!.addEventListener('pointermove', (e) => { sum.x += e.movementX; sum.y += e.movementY; });
    });
    const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    for (const [dx, dy] of [[30, 0], [0, 20], [-12, 9], [25, -4]]) {
      at.x += dx;
      at.y += dy;
      await page.mouse.move(at.x, at.y, { steps: 3 });
      await page.waitForTimeout(100);
    }
    await page.mouse.down();
    await page.waitForTimeout(100);
    await page.mouse.up();
    await page.mouse.wheel(0, 120);
    const moved = await page.evaluate(() => (window as unknown as { movedSum: { x: number; y: number } }).movedSum);
    expect(moved.x).not.toBe(0);
    expect(moved.y).not.toBe(0);

    const done = await waitSerial(page, /show-input: done/, mark, 120_000);
    const log = (await serial(page)).slice(mark, mark + done.index);
    const values = (type: number, code: number) => [...log.matchAll(new RegExp(`input-event ${type} ${code} (-?\\d+)`, 'g'))].map((m) => Number(m[1]));
    const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
    // Linux reports PS/2 motion as counts, y growing downwards as in the DOM.
    expect(sum(values(2, 0)), log).toBe(moved.x);
    expect(sum(values(2, 1)), log).toBe(moved.y);
    expect(values(1, 272), log).toEqual([1, 0]); // BTN_LEFT down, up
    expect(values(2, 8), log).toEqual([-1]); // REL_WHEEL: one detent towards the user

    // The lock is the page's to give back (the browser's Escape does the same for a user).
    await page.evaluate(() => document.exitPointerLock());
    await waitFor('pointer lock released', () => page.evaluate(() => document.pointerLockElement === null), 5_000);

    // 5. Full-screen: Keyboard Lock where the browser has it; leaving full-screen unlocks.
    await page.locator('#fullscreen').click();
    await waitFor('full-screen', () => page.evaluate(() => document.fullscreenElement !== null), 5_000);
    const lockState = await waitFor('the keyboard lock state', async () => {
      const s = await page.locator('#screen').getAttribute('data-keyboard-lock');
      return s === 'unlocked' && hasKeyboardLock ? undefined : s;
    }, 5_000);
    expect(hasKeyboardLock ? ['locked', 'failed'] : ['unsupported']).toContain(lockState);
    await page.evaluate(() => document.exitFullscreen());
    await waitFor('full-screen left', () => page.evaluate(() => document.fullscreenElement === null), 5_000);
    // The page unlocks on the fullscreenchange event, which may come after fullscreenElement is null.
    const afterState = hasKeyboardLock ? 'unlocked' : 'unsupported';
    await waitFor(`the keyboard lock state '${afterState}'`, async () => (await page.locator('#screen').getAttribute('data-keyboard-lock')) === afterState, 5_000);

    expect(errors).toEqual([]);
    await page.evaluate(() => (window as unknown as { webhvm: Automation }).webhvm.powerOff());
    await context.close();
  }, BOOT_MS + 10 * 60_000);
});
