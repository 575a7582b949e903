/**
 * `webhvm test --browser`: a short script (the default guest: wait for its serial marker,
 * screenshot, fingerprint) runs in the production page in headless Chromium with the exit
 * status, JUnit report and files of the Node mode; its fingerprint and screenshot equal those of
 * the same script run in Node. A failing step leaves failure.png, serial.log and input.log.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumRunnable, ROOT } from './page-harness.ts';

const DONE = 'WEBHVM-DEFAULT-GUEST-DONE';
const FINGERPRINT = /^fingerprint: (insns=\d+ serial=[0-9a-f]{16} screen=[0-9a-f]{16} ram=[0-9a-f]{16})$/m;

const suite = chromiumRunnable() ? describe : describe.skip;

function webhvmTest(args: string[], command = 'test'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/webhvm.js'), command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

suite('webhvm test --browser', () => {
  let dir: string;
  let dist: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'webhvm-test-browser-'));
    dist = join(dir, 'dist');
    const guest = spawnSync(process.execPath, [join(ROOT, 'bios/default-guest/build.mjs'), join(dir, 'default-guest.img')], { encoding: 'utf8' });
    if (guest.status !== 0) throw new Error(`building the default guest failed:\n${guest.stdout}\n${guest.stderr}`);
    // The page bundles build/default-guest.img when it is there (the default guest's own boot is turned off here with ?autoboot=0).
    spawnSync(process.execPath, [join(ROOT, 'bios/default-guest/build.mjs')], { cwd: ROOT, encoding: 'utf8' });
    const built = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', dist, '--emptyOutDir', '--logLevel', 'warn'], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`vite build failed:\n${built.stdout}\n${built.stderr}`);
    const config = readFileSync(join(ROOT, 'examples/default-guest.cfg'), 'utf8').replace(/^fda = .*$/m, "fda = 'default-guest.img'");
    writeFileSync(join(dir, 'default-guest.cfg'), config);
  }, 300_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the script in Chromium with the Node run\'s fingerprint and screenshot, exit status 0 and a JUnit report', async () => {
    writeFileSync(join(dir, 'node.script'), `config default-guest.cfg\ntimeout 120\nwait serial ${DONE}\nscreenshot node.png\nfingerprint\n`);
    const node = await webhvmTest([join(dir, 'node.script')]);
    expect(node.code, node.stdout + node.stderr).toBe(0);
    const fields = FINGERPRINT.exec(node.stdout)?.[1];
    expect(fields).toBeDefined();

    // The browser run must reproduce every field, or its fingerprint step fails.
    // A snapshot part-way, from the page, in the runner's file format.
    writeFileSync(join(dir, 'browser.script'), `config default-guest.cfg\ntimeout 120\nwait serial Windows\nsnapshot mid.snap\nwait serial ${DONE}\nscreenshot browser.png\nfingerprint ${fields}\n`);
    const junit = join(dir, 'browser.xml');
    const browser = await webhvmTest([join(dir, 'browser.script'), '--browser', '--dist', dist, '--junit', junit]);
    expect(browser.code, browser.stdout + browser.stderr).toBe(0);
    expect(browser.stderr).toMatch(/default-guest in headless Chromium/);
    expect(browser.stdout).toContain(`fingerprint: ${fields}`);
    expect(browser.stdout).toContain('webhvm test: browser.script: 5 of 5 steps passed');
    const report = readFileSync(junit, 'utf8');
    expect(report).toMatch(/<testsuite name="browser\.script" tests="5" failures="0" skipped="0"/);
    expect(report).toContain(`name="5: wait serial ${DONE}"`);
    expect(report).toContain(DONE); // the serial log in system-out
    const png = readFileSync(join(dir, 'browser.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.equals(readFileSync(join(dir, 'node.png')))).toBe(true);

    // The page's snapshot restored by the Node runner goes on to the same fingerprint.
    const restored = await webhvmTest([join(dir, 'default-guest.cfg'), '--deterministic', '--restore', join(dir, 'mid.snap'), '--until', DONE, '--timeout', '120'], 'run');
    expect(restored.code, restored.stdout + restored.stderr).toBe(0);
    expect(restored.stdout + restored.stderr).toContain(`fingerprint: ${fields}`);
  }, 600_000);

  it('a failing step gives exit status 1, a JUnit failure and failure.png, serial.log and input.log', async () => {
    writeFileSync(join(dir, 'fail.script'), `config default-guest.cfg\ntimeout 20\nwait serial ${DONE}\nsend "x"\nwait serial NEVER-PRINTED\nfingerprint\n`);
    const artifacts = join(dir, 'artifacts');
    const junit = join(dir, 'fail.xml');
    const r = await webhvmTest([join(dir, 'fail.script'), '--browser', '--dist', dist, '--junit', junit, '--artifacts', artifacts]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/FAIL 5: wait serial NEVER-PRINTED -- no serial output matched \/NEVER-PRINTED\//);
    expect(r.stdout).toContain('skip 6: fingerprint');
    const report = readFileSync(junit, 'utf8');
    expect(report).toMatch(/tests="4" failures="1" skipped="1"/);
    expect(readFileSync(join(artifacts, 'failure.png')).subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(join(artifacts, 'serial.log'), 'latin1')).toContain(DONE);
    const inputLog = readFileSync(join(artifacts, 'input.log'), 'utf8');
    expect(inputLog.split('\n')[0]).toBe('# webhvm input log v1');
    expect(inputLog).toMatch(/"kind":"serial","port":0,"bytes":\[120\]/);
  }, 600_000);

  it('says what is missing: no production build, a configuration the page refuses', async () => {
    writeFileSync(join(dir, 'short.script'), 'config default-guest.cfg\nwait serial X\n');
    const noBuild = await webhvmTest([join(dir, 'short.script'), '--browser', '--dist', join(dir, 'nothing')]);
    expect(noBuild.code).toBe(2);
    expect(noBuild.stderr).toMatch(/has none: run 'npm run build' first/);
    writeFileSync(join(dir, 'bad.cfg'), "name = 'bad'\nbuilder = 'hvm'\nmemory = 32\nfda = 'truncated.img'\n");
    writeFileSync(join(dir, 'truncated.img'), new Uint8Array(1000));
    const bad = await webhvmTest([join(dir, 'short.script'), '--browser', '--dist', dist, '--config', join(dir, 'bad.cfg')]);
    expect(bad.code, bad.stdout + bad.stderr).toBe(2);
    expect(bad.stderr).toMatch(/fda/);
    expect(existsSync(join(dir, 'failure.png'))).toBe(false);
  }, 300_000);
});
