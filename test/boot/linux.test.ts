import { describe, expect, it } from 'vitest';
import { imagesAvailable, image, runWebhvm, writeConfig } from './boot-helpers.ts';

const MARKER = 'WEBHVM-GUEST-READY';
const common = "builder = 'hvm'\nmemory = 128\nacpi = 0\napic = 0\nvcpus = 1\nserial = 'pty'\non_reboot = 'destroy'\n";

describe.runIf(imagesAvailable('linux.iso', 'linux-hd.img'))('a real 32-bit Linux through SeaBIOS', () => {
  it("boots the ISO from the ATAPI CD-ROM with boot='d' to the shell marker", async () => {
    const cfg = writeConfig(`name = 'cd'\n${common}boot = 'd'\ndisk = [ 'file:${image('linux.iso')},hdc:cdrom,r' ]\n`);
    const r = await runWebhvm([cfg, '--until', MARKER, '--timeout', '300']);
    expect(r.stdout).toContain('ISOLINUX');
    expect(r.stdout).toContain('Linux version 6.1');
    expect(r.stdout).toContain(MARKER);
    expect(r.stdout).toContain('webhvm: cd ended: matched');
    expect(r.code).toBe(0);
  }, 400_000);

  it("boots the partitioned hard disk with boot='c', and a command typed on the serial port runs", async () => {
    const cfg = writeConfig(`name = 'hd'\n${common}boot = 'c'\ndisk = [ 'file:${image('linux-hd.img')},hda,w' ]\n`);
    // At the shell prompt (input typed earlier is discarded when the shell sets up its
    // terminal, as on real hardware), type a command whose output only the shell can produce.
    const r = await runWebhvm([cfg, '--until', 'answer=42', '--timeout', '300'], [
      { after: '/ # ', send: 'echo answer=$((6*7))\n' },
    ]);
    expect(r.stdout).toContain('SYSLINUX');
    expect(r.stdout).toContain(MARKER);
    expect(r.stdout).toContain('answer=42');
    expect(r.code).toBe(0);
  }, 400_000);
});
