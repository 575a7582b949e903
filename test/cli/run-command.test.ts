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
