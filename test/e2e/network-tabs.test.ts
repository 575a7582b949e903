/**
 * Two VMs in two tabs of one browser on one bridge, in Debian's headless Chromium driven by
 * playwright-core against the production build: each tab boots the project's Linux ISO with an
 * RTL8139 on `xenbr0`, the guests lease addresses with busybox udhcpc and ping each other and the
 * gateway. The tabs' switches are joined over a BroadcastChannel, and only the first tab's
 * built-in gateway answers (src/worker/tab-network.ts). The second tab opens after the first
 * guest has its lease: an answering gateway in the second tab would have a fresh lease table and
 * offer that same first address of the pool again, so distinct leases show there was one server.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { imagesAvailable, IMAGES } from '../boot/boot-helpers.ts';
import { serveStatic, type StaticServer } from './static-server.ts';
import { serialText, typeAndWait, waitSerial } from './page-harness.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = '/usr/bin/chromium';
const REQUIRED = process.env.WEBHVM_REQUIRE_IMAGES === '1';
const MARKER = 'WEBHVM-GUEST-READY';
/** A Linux boot in the page on a busy 2-core machine can take many minutes. */
const BOOT_MS = 15 * 60_000;
const MACS = { alpha: '00:16:3e:00:00:1a', beta: '00:16:3e:00:00:1b' };
// udhcpc only prints the lease; this script applies it. Typed at the prompt, so `\n` is for printf.
const DHCP_SCRIPT = `printf '#!/bin/sh\\n[ "$1" = bound ] && ifconfig $interface $ip netmask $subnet && echo "lease=$ip"\\n' >/tmp/dhcp.sh; chmod +x /tmp/dhcp.sh\n`;

const runnable = existsSync(CHROMIUM) || REQUIRED;
const suite = runnable ? describe : describe.skip;
if (!runnable) console.warn(`test/e2e: skipped: ${CHROMIUM} is missing (apt-get install chromium) and WEBHVM_REQUIRE_IMAGES is unset`);

// window.webhvm is declared (as the page's Automation) in page.test.ts for every e2e file.


suite('two VMs in two tabs on one bridge', () => {
  let outDir: string;
  let server: StaticServer;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    if (!imagesAvailable('linux.iso')) throw new Error(`guest images missing in ${IMAGES}: run bash test/images/build-guests.sh`);
    outDir = mkdtempSync(join(tmpdir(), 'webhvm-dist-'));
    const built = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`vite build failed:\n${built.stdout}\n${built.stderr}`);
    server = await serveStatic(outDir, IMAGES);
    for (const [name, mac] of Object.entries(MACS)) {
      writeFileSync(join(outDir, `${name}.cfg`),
        `name = '${name}'\nbuilder = 'hvm'\nmemory = 128\nacpi = 0\napic = 0\nboot = 'd'\nserial = 'pty'\n` +
        `disk = [ 'file:${server.url}media/linux.iso,hdc:cdrom,r' ]\n` +
        `vif = [ 'mac=${mac}, bridge=xenbr0, model=rtl8139' ]\n`);
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // One context: its tabs share an origin's BroadcastChannels and Web Locks, as a user's tabs do.
    context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  async function open(name: keyof typeof MACS): Promise<Page> {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    (page as Page & { errors: string[] }).errors = errors;
    await page.goto(`${server.url}?config=${encodeURIComponent(`${server.url}${name}.cfg`)}`);
    return page;
  }

  /** Boots to the shell, writes the DHCP script and leases an address; returns the address. */
  async function lease(page: Page): Promise<string> {
    await waitSerial(page, new RegExp(MARKER), 0, BOOT_MS);
    await waitSerial(page, /\/ # /, (await serialText(page)).indexOf(MARKER), 5 * 60_000);
    await typeAndWait(page, DHCP_SCRIPT, /\/ # /);
    const done = await typeAndWait(page, 'ifconfig eth0 up; udhcpc -i eth0 -s /tmp/dhcp.sh -q -n -t 5 -T 2; echo dhcp-exit-$?\n', /dhcp-exit-(\d+)/, 3 * 60_000);
    const text = await serialText(page);
    expect(done[1], text.slice(-1500)).toBe('0');
    const leases = [...text.matchAll(/lease=(\d+\.\d+\.\d+\.\d+)/g)];
    expect(leases.length, text.slice(-1500)).toBeGreaterThan(0);
    return leases[leases.length - 1][1];
  }

  it('lease distinct addresses from the one answering gateway and ping each other and the gateway', async () => {
    const alpha = await open('alpha');
    const alphaIp = await lease(alpha);
    const beta = await open('beta');
    const betaIp = await lease(beta);
    expect(alphaIp).toMatch(/^10\.0\.2\.(1[5-9]|2\d|30)$/);
    expect(betaIp).toMatch(/^10\.0\.2\.(1[5-9]|2\d|30)$/);
    expect(alphaIp).not.toBe(betaIp);

    for (const [page, peer] of [[alpha, betaIp], [beta, alphaIp]] as const) {
      const pinged = await typeAndWait(page, `ping -c 2 ${peer}; echo peer-exit-$?\n`, /peer-exit-(\d+)/, 120_000);
      const out = (await serialText(page)).slice(-1500);
      expect(pinged[1], out).toBe('0');
      expect(out).toMatch(new RegExp(`64 bytes from ${peer.replace(/\./g, '\\.')}`));
      expect(out).toMatch(/2 packets transmitted, 2 packets received/);
      expect(out).not.toMatch(/DUP!/);
      // Beta's gateway is the one in alpha's tab, reached across the channel; one gateway, one reply each.
      const mark = (await serialText(page)).length;
      const gateway = await typeAndWait(page, 'ping -c 2 10.0.2.2; echo gateway-exit-$?\n', /gateway-exit-(\d+)/, 120_000);
      const gatewayOut = (await serialText(page)).slice(mark);
      expect(gateway[1], gatewayOut).toBe('0');
      expect(gatewayOut).toMatch(/2 packets transmitted, 2 packets received/);
      expect(gatewayOut).not.toMatch(/DUP!|duplicates/);
    }
    for (const page of [alpha, beta]) expect((page as Page & { errors: string[] }).errors).toEqual([]);
  }, 25 * 60_000);
});
