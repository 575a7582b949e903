import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imagesAvailable, IMAGES, runWebhvm, writeConfig } from './boot-helpers.ts';

/**
 * boot='n' with no disk at all: SeaBIOS runs the RTL8139's iPXE option ROM, iPXE leases an
 * address from the built-in gateway's DHCP server, which names the boot file; iPXE fetches that
 * script from the built-in TFTP server and runs it, which loads the project's kernel and initrd
 * over TFTP and boots them to the shell marker. The command line carries a token only the script
 * has, so the kernel seen running is the one the script loaded.
 */
describe.runIf(imagesAvailable('vmlinuz-686', 'initrd-686.gz'))('network boot (PXE) from the built-in gateway', () => {
  it("boots vmlinuz-686 and initrd-686.gz over TFTP with boot='n'", async () => {
    const cfg = writeConfig(
      "name = 'pxe'\nbuilder = 'hvm'\nmemory = 128\nacpi = 0\napic = 0\nboot = 'n'\n" +
        "vif = [ 'mac=00:16:3e:00:00:0c, bridge=xenbr0, model=rtl8139' ]\non_reboot = 'destroy'\n",
    );
    const script = join(dirname(cfg), 'boot.ipxe');
    writeFileSync(script, '#!ipxe\nkernel vmlinuz-686 console=ttyS0,115200 console=tty0 webhvm.netboot=yes\ninitrd initrd-686.gz\nboot\n');
    const r = await runWebhvm([
      cfg, '--tftp', IMAGES, '--tftp', `boot.ipxe=${script}`, '--boot-file', 'boot.ipxe',
      '--until', 'WEBHVM-GUEST-READY', '--timeout', '900',
    ]);
    const output = `${r.stdout}\n${r.stderr}`;
    expect(r.stdout, output).toMatch(/Kernel command line: .*webhvm\.netboot=yes/);
    expect(r.stdout).toContain('Linux version 6.1');
    // The initrd iPXE loaded is the one that runs /init.
    expect(r.stdout).toContain('WEBHVM-GUEST-READY');
    expect(r.stdout).toContain('webhvm: pxe ended: matched');
    expect(r.code).toBe(0);
  }, 1_000_000);

  it('refuses a boot file the TFTP server does not serve before the VM starts', async () => {
    const cfg = writeConfig("name = 'pxe'\nbuilder = 'hvm'\nboot = 'n'\nvif = [ 'bridge=xenbr0' ]\n");
    const r = await runWebhvm([cfg, '--tftp', IMAGES, '--boot-file', 'no-such.ipxe']);
    expect(r.stderr).toContain('--boot-file no-such.ipxe: not among the files --tftp serves');
    expect(r.code).toBe(2);
  });
});
