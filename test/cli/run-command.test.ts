import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imagesAvailable, image, runWebhvm, writeConfig } from '../boot/boot-helpers.ts';

/** A VM that boots the project's floppy, which prints WEBHVM-FLOPPY-OK on COM1 and halts. */
function floppyVm(name: string, dir?: string): string {
  const text = `name = '${name}'\nbuilder = 'hvm'\nmemory = 16\nacpi = 0\napic = 0\nboot = 'a'\nfda = '${image('floppy.img')}'\n`;
  if (!dir) return writeConfig(text, `${name}.cfg`);
  const path = join(dir, `${name}.cfg`);
  writeFileSync(path, text);
  return path;
}

describe.runIf(imagesAvailable('floppy.img'))('webhvm run with several configurations', () => {
  it('runs both VMs, prefixes their lines, and ends when each matched its own pattern', async () => {
    const a = floppyVm('fa');
    const b = floppyVm('fb', dirname(a));
    const shot = join(dirname(a), 'screen.png');
    const r = await runWebhvm([a, b, '--until', 'fa=FLOPPY-OK', '--until', 'fb=WEBHVM-FLOPPY', '--timeout', '120', '--screenshot', shot]);
    expect(r.stdout).toMatch(/^fa\| WEBHVM-FLOPPY-OK/m);
    expect(r.stdout).toMatch(/^fb\| WEBHVM-FLOPPY-OK/m);
    expect(r.stdout).toMatch(/webhvm: fa ended: matched\nwebhvm: fb ended: matched/);
    expect(existsSync(join(dirname(a), 'screen-fa.png')) && existsSync(join(dirname(a), 'screen-fb.png'))).toBe(true);
    expect(r.code).toBe(0);
  }, 200_000);

  it('has the worst exit status of its VMs: one matched, one timed out', async () => {
    const a = floppyVm('fa');
    const b = floppyVm('fb', dirname(a));
    const r = await runWebhvm([a, b, '--until', 'fa=FLOPPY-OK', '--until', 'fb=NEVER-PRINTED', '--timeout', '8']);
    expect(r.stdout).toMatch(/webhvm: fa ended: matched\nwebhvm: fb ended: timeout/);
    expect(r.stderr).toContain('--- last serial lines of fb ---');
    expect(r.code).toBe(1);
  }, 200_000);

  it('refuses two VMs of the same name before either starts', async () => {
    const a = floppyVm('same');
    const r = await runWebhvm([a, a, '--until', 'x']);
    expect(r.stderr).toContain("another configuration already names a VM 'same'");
    expect(r.stdout).not.toContain('ended:');
    expect(r.code).toBe(2);
  }, 60_000);
});

describe.runIf(imagesAvailable('floppy.img'))('webhvm run --relay', () => {
  it('connects the bridge of a VM to a relay, and refuses a relay URL that is not ws://', async () => {
    const { startRelayServer } = await import('../../src/cli/relay-server-node.ts');
    const relay = await startRelayServer({ host: '127.0.0.1', port: 0, hostLoopback: false });
    try {
      const cfg = writeConfig(`name = 'relayed'\nbuilder = 'hvm'\nmemory = 16\nacpi = 0\napic = 0\nboot = 'a'\nfda = '${image('floppy.img')}'\nvif = [ 'bridge=xenbr0, model=rtl8139' ]\n`);
      const r = await runWebhvm([cfg, '--relay', relay.url, '--until', 'FLOPPY-OK', '--timeout', '120']);
      expect(r.stderr).toContain(`webhvm: relay open: ${relay.url}`);
      expect(r.stdout).toContain('webhvm: relayed ended: matched');
      expect(r.code).toBe(0);
      await expect.poll(() => relay.stats.clients, { timeout: 5000 }).toBe(0);

      const bad = await runWebhvm([cfg, '--relay', 'http://127.0.0.1:1/', '--until', 'x']);
      expect(bad.stderr).toContain('expected a ws:// or wss:// URL');
      expect(bad.code).toBe(2);
    } finally {
      await relay.close();
    }
  }, 200_000);
});
