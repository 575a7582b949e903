/**
 * The change log against real guests: SeaBIOS, the default guest's pager and a Linux boot write
 * video memory every way they like (BIOS teletype, string moves, vgacon's hardware scrolling by
 * start address, cursor updates). A viewer that repaints only the reported regions must hold
 * exactly the picture a full render makes, at every look.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/machine/machine.ts';
import { machineSetupFromConfig } from '../../src/machine/setup-from-config.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';
import { loadFirmwareFiles } from '../../src/firmware/firmware-files-node.ts';
import { SYSTEM_BIOS, VGA_BIOS_STDVGA } from '../../src/firmware/firmware-files.ts';
import { readDomainConfigFile, nodeMediaResolver } from '../../src/config/resolve-node.ts';
import { resolveMedia } from '../../src/config/media.ts';
import { openImagesNode } from '../../src/cli/open-images-node.ts';
import { renderFrame } from '../../src/display/vga-render.ts';
import { frameSize } from '../../src/display/vga-render.ts';
import { RepaintPolicy } from '../../web/repaint-policy.ts';
import { image, imagesAvailable } from '../boot/boot-helpers.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const firmware = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA]);

async function boot(config: string, dir: string): Promise<{ machine: Machine; serial: () => string }> {
  const path = join(dir, 'guest.cfg');
  writeFileSync(path, config);
  const { config: parsed } = await readDomainConfigFile(path);
  const images = await openImagesNode(await resolveMedia(parsed, nodeMediaResolver(path), { fileName: path }));
  let serial = '';
  const setup = machineSetupFromConfig(parsed, images.opened, {
    firmware: { bios: firmware.get(SYSTEM_BIOS)!, vgaBios: firmware.get(VGA_BIOS_STDVGA)! },
    serialOutput: (port, byte) => {
      if (port === 0) serial += String.fromCharCode(byte);
    },
    nowSeconds: 1_700_000_000,
  });
  return { machine: new Machine(setup, loadCoreModule()), serial: () => serial };
}

/**
 * Run until `done`, looking every `slicesPerLook` slices as the page does; every look, the
 * partly repainted picture must equal a full render. Returns what the looks repainted.
 */
async function watch(machine: Machine, done: () => boolean, limitMs: number, slicesPerLook = 20) {
  const policy = new RepaintPolicy();
  let picture = new Uint8ClampedArray(0);
  const totals = { looks: 0, full: 0, partial: 0, idle: 0, pixels: 0, fullPixels: 0 };
  const deadline = Date.now() + limitMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out; screen:\n${machine.screenText()?.join('\n')}`);
    for (let i = 0; i < slicesPerLook && !done(); i++) machine.runSlice();
    const display = machine.vga.displayState();
    const regions = policy.plan(1, display, machine.vga.changesSince(policy.since), machine.vram);
    const size = frameSize(display);
    totals.looks++;
    totals.fullPixels += size.width * size.height;
    if (regions.full || picture.length !== size.width * size.height * 4) {
      picture = renderFrame(display, machine.vram).rgba.slice();
      totals.full++;
      totals.pixels += size.width * size.height;
    } else if (regions.rects.length) {
      for (const r of regions.rects) {
        renderFrame(display, machine.vram, picture, r);
        totals.pixels += r.width * r.height;
      }
      totals.partial++;
    } else {
      totals.idle++;
    }
    const full = renderFrame(display, machine.vram).rgba;
    if (!full.every((b, i) => b === picture[i])) {
      throw new Error(`look ${totals.looks}: the partly repainted picture differs from a full render; screen:\n${machine.screenText()?.join('\n')}`);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return totals;
}

describe('dirty tracking against real guests', () => {
  it('the default guest (SeaBIOS POST, then its text-mode pager)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webhvm-dirty-'));
    const built = spawnSync(process.execPath, [join(ROOT, 'bios/default-guest/build.mjs'), join(dir, 'default-guest.img')], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`building the default guest failed:\n${built.stdout}${built.stderr}`);
    const { machine, serial } = await boot("name = 'dg'\nbuilder = 'hvm'\nmemory = 64\nboot = 'a'\nfda = 'default-guest.img'\n", dir);
    const totals = await watch(machine, () => serial().includes('WEBHVM-DEFAULT-GUEST-DONE'), 120_000, 5);
    console.log('default guest:', totals);
    expect(totals.partial).toBeGreaterThan(0);
    expect(totals.pixels).toBeLessThan(totals.fullPixels);
  }, 150_000);

  it.runIf(imagesAvailable('linux.iso'))('a Linux boot from CD to the shell (vgacon scrolling the text screen)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webhvm-dirty-'));
    const config = `name = 'cd'\nbuilder = 'hvm'\nmemory = 128\nacpi = 0\napic = 0\nvcpus = 1\nserial = 'pty'\nboot = 'd'\ndisk = [ 'file:${image('linux.iso')},hdc:cdrom,r' ]\n`;
    const { machine, serial } = await boot(config, dir);
    const totals = await watch(machine, () => serial().includes('WEBHVM-GUEST-READY'), 600_000);
    console.log('linux boot:', totals);
    expect(totals.partial).toBeGreaterThan(0);
    expect(totals.pixels).toBeLessThan(totals.fullPixels);
  }, 700_000);
});
