import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MachineSession } from '../../src/worker/machine-session.ts';
import { createIoRings } from '../../src/worker/io-rings.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';
import { loadFirmwareFiles } from '../../src/firmware/firmware-files-node.ts';
import { SYSTEM_BIOS, VGA_BIOS_STDVGA } from '../../src/firmware/firmware-files.ts';
import { imagesAvailable, image } from '../boot/boot-helpers.ts';

describe.runIf(imagesAvailable('floppy.img'))('MachineSession with the page rings connected', () => {
  it('sends guest serial output through the COM1 ring instead of the listener', async () => {
    const fw = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA]);
    const s = new MachineSession({ module: loadCoreModule(), firmware: { bios: fw.get(SYSTEM_BIOS)!, vgaBios: fw.get(VGA_BIOS_STDVGA)! } });
    const rings = createIoRings();
    let viaListener = 0;
    s.listen({ serial: () => viaListener++, note: () => {} });
    s.connectRings(rings.buffer);
    const config = "name = 't'\nbuilder = 'hvm'\nmemory = 32\nserial = 'pty'\nboot = 'a'\nfda = 'floppy.img'\n";
    expect(await s.create({ config, files: [new File([readFileSync(image('floppy.img'))], 'floppy.img')] })).toMatchObject({ ok: true });
    await s.start();
    let text = '';
    const end = Date.now() + 60_000;
    while (!text.includes('WEBHVM-FLOPPY-OK') && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
      text += String.fromCharCode(...rings.serial[0].read());
    }
    s.powerOff();
    expect(text).toContain('WEBHVM-FLOPPY-OK');
    expect(viaListener).toBe(0);
    expect(rings.serial[0].dropped).toBe(0);
    s.connectRings(createIoRings().buffer); // stops the first link's watcher
  }, 120_000);
});
