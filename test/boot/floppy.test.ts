import { describe, expect, it } from 'vitest';
import { imagesAvailable, image, runWebhvm, writeConfig } from './boot-helpers.ts';

describe.runIf(imagesAvailable('floppy.img'))('boot from floppy', () => {
  it("boots the project's floppy with boot='a' to its marker", async () => {
    const cfg = writeConfig(`name = 'fd'\nbuilder = 'hvm'\nmemory = 32\nacpi = 0\napic = 0\nboot = 'a'\nfda = '${image('floppy.img')}'\n`);
    const r = await runWebhvm([cfg, '--until', 'WEBHVM-FLOPPY-OK', '--timeout', '60']);
    expect(r.stdout).toContain('WEBHVM-FLOPPY-OK');
    expect(r.stdout).toContain('webhvm: fd ended: matched');
    expect(r.code).toBe(0);
  });
});
