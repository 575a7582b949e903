/**
 * The page's way out to the real network, end to end: an HTTP server on this host's 127.0.0.1
 * with a known body, `webhvm relay` as a child process (the command a user runs), and the
 * production page in Debian's headless Chromium opened with `?relay=ws://127.0.0.1:PORT/` and a
 * configuration that boots the project's Linux CD with an RTL8139. The guest leases its address
 * from the relay's DHCP server (10.0.3.x, not the built-in gateway's 10.0.2.x) and busybox wget
 * fetches the page from the relay router's address 10.0.3.2, which is the relay host's loopback;
 * the body must appear on the page's serial terminal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { IMAGES, imagesAvailable } from '../boot/boot-helpers.ts';
import { chromiumRunnable, ROOT, startPageHarness, type PageHarness, serialText, typeAndWait, waitSerial } from './page-harness.ts';

const MARKER = 'WEBHVM-GUEST-READY';
/** A Linux boot in the page on a busy 2-core machine can take many minutes. */
const BOOT_MS = 15 * 60_000;
const BODY = 'webhvm-relay-page: fetched through the relay by the guest in the page';
const MAC = '00:16:3e:00:86:0e';
// udhcpc only prints the lease; this script applies it. Typed at the prompt, so `\n` is for printf.
const DHCP_SCRIPT = `printf '#!/bin/sh\\n[ "$1" = bound ] && ifconfig $interface $ip netmask $subnet && route add default gw $router && echo "lease=$ip"\\n' >/tmp/dhcp.sh; chmod +x /tmp/dhcp.sh\n`;

const suite = chromiumRunnable() ? describe : describe.skip;
if (!chromiumRunnable()) console.warn('test/e2e: skipped: /usr/bin/chromium is missing (apt-get install chromium) and WEBHVM_REQUIRE_IMAGES is unset');

// window.webhvm is declared (as the page's Automation) in page.test.ts for every e2e file.


interface RelayProcess {
  url: string;
  child: ChildProcess;
  stderr: () => string;
}

/** `webhvm relay --listen 127.0.0.1:0`; resolves with the URL it prints once listening. */
function startRelayProcess(): Promise<RelayProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/webhvm.js'), 'relay', '--listen', '127.0.0.1:0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`webhvm relay did not start:\n${stdout}\n${stderr}`)), 60_000);
    child.on('exit', (code) => reject(new Error(`webhvm relay exited (${code}):\n${stdout}\n${stderr}`)));
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const url = /listening on (ws:\/\/\S+)/.exec(stdout)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve({ url, child, stderr: () => stderr });
      }
    });
  });
}

suite('the page reaches the host through a relay', () => {
  let harness: PageHarness;
  let media: string;
  let http: Server;
  let httpPort: number;
  let relay: RelayProcess;
  let requests = 0;

  beforeAll(async () => {
    if (!imagesAvailable('linux.iso')) throw new Error(`guest images missing in ${IMAGES}: run bash test/images/build-guests.sh`);
    http = createServer((_req, res) => {
      requests++;
      res.end(`${BODY}\n`);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    httpPort = (http.address() as AddressInfo).port;
    relay = await startRelayProcess();
    // The served media folder: the CD and a configuration naming it by URL.
    media = mkdtempSync(join(tmpdir(), 'webhvm-relay-media-'));
    symlinkSync(join(IMAGES, 'linux.iso'), join(media, 'linux.iso'));
    harness = await startPageHarness(media);
    writeFileSync(join(media, 'relay.cfg'),
      `name = 'relay-page'\nbuilder = 'hvm'\nmemory = 128\nacpi = 0\napic = 0\nboot = 'd'\nserial = 'pty'\n` +
      `disk = [ 'file:${harness.server.url}media/linux.iso,hdc:cdrom,r' ]\n` +
      `vif = [ 'mac=${MAC}, bridge=xenbr0, model=rtl8139' ]\n`);
  }, 240_000);

  afterAll(async () => {
    await harness?.close();
    relay?.child.kill('SIGTERM');
    http?.close();
    if (media) rmSync(media, { recursive: true, force: true });
  });

  it('leases an address from the relay and fetches a page from the host with wget', async () => {
    const page = await harness.browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const config = `${harness.server.url}media/relay.cfg`;
    await page.goto(`${harness.server.url}?config=${encodeURIComponent(config)}&relay=${encodeURIComponent(relay.url)}`);

    await waitSerial(page, new RegExp(MARKER), 0, BOOT_MS);
    await waitSerial(page, /\/ # /, (await serialText(page)).indexOf(MARKER), 5 * 60_000);
    await typeAndWait(page, DHCP_SCRIPT, /\/ # /);
    const dhcp = await typeAndWait(page, 'ifconfig eth0 up; udhcpc -i eth0 -s /tmp/dhcp.sh -q -n -t 8 -T 2; echo dhcp-exit-$?\n', /dhcp-exit-(\d+)/, 3 * 60_000);
    let text = await serialText(page);
    expect(dhcp[1], text.slice(-1500)).toBe('0');
    // The relay's DHCP server answered, not the page's built-in gateway (10.0.2.x).
    expect(text).toMatch(/lease of 10\.0\.3\.\d+ obtained from 10\.0\.3\.2/);
    expect(text).toMatch(/lease=10\.0\.3\.\d+/);

    const wget = await typeAndWait(page, `wget -q -O - http://10.0.3.2:${httpPort}/; echo wget-exit-$?\n`, /wget-exit-(\d+)/, 3 * 60_000);
    text = await serialText(page);
    expect(wget[1], text.slice(-1500)).toBe('0');
    expect(text).toContain(`${BODY}\r\nwget-exit-0`);
    expect(requests).toBe(1);
    // The page's WebSocket was the relay's client.
    expect(relay.stderr()).toMatch(/client-1 \(127\.0\.0\.1:\d+\) connected/);
    expect(errors).toEqual([]);
    await page.close();
  }, BOOT_MS + 10 * 60_000);
});
