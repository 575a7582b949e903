import { writeFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imagesAvailable, image, runWebhvm, writeConfig } from './boot-helpers.ts';

const base = "name = 'bad'\nbuilder = 'hvm'\nmemory = 32\nacpi = 0\napic = 0\n";

describe('bad input is reported before the VM starts', () => {
  it('a missing image: exit 2 naming the file and the line', async () => {
    const cfg = writeConfig(`${base}disk = [ 'file:nowhere.img,hda,w' ]\n`);
    const r = await runWebhvm([cfg, '--timeout', '30']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/guest\.cfg:6:\d+.*nowhere\.img/);
    expect(r.stdout).not.toContain('ended:');
  });

  it('a zero-length disk: exit 2', async () => {
    const cfg = writeConfig(`${base}disk = [ 'file:empty.img,hda,w' ]\n`);
    writeFileSync(join(dirname(cfg), 'empty.img'), new Uint8Array(0));
    const r = await runWebhvm([cfg, '--timeout', '30']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/hda.*empty/);
  });

  it('an unknown vdev: exit 2 with the position', async () => {
    const cfg = writeConfig(`${base}disk = [ 'file:x.img,hdq,w' ]\n`);
    const r = await runWebhvm([cfg, '--timeout', '30']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/guest\.cfg:6:\d+.*hdq/);
  });

  it.runIf(imagesAvailable('linux.iso'))('a truncated ISO: exit 2 saying it is truncated', async () => {
    const cfg = writeConfig(`${base}boot = 'd'\ndisk = [ 'file:cut.iso,hdc:cdrom,r' ]\n`);
    const iso = readFileSync(image('linux.iso'));
    writeFileSync(join(dirname(cfg), 'cut.iso'), iso.subarray(0, Math.floor(iso.length / 2)));
    const r = await runWebhvm([cfg, '--timeout', '30']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/truncated/);
  });

  it('a file that is no floppy image: exit 2 with the sizes expected', async () => {
    const cfg = writeConfig(`${base}boot = 'a'\nfda = 'odd.img'\n`);
    writeFileSync(join(dirname(cfg), 'odd.img'), new Uint8Array(1000));
    const r = await runWebhvm([cfg, '--timeout', '30']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a floppy image size.*1440K/);
  });
});
