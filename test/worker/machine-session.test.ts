import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MachineSession } from '../../src/worker/machine-session.ts';
import { loadCoreModule } from '../../src/cpu/load-core-node.ts';
import { loadFirmwareFiles } from '../../src/firmware/firmware-files-node.ts';
import { SYSTEM_BIOS, VGA_BIOS_STDVGA } from '../../src/firmware/firmware-files.ts';
import { imagesAvailable, image } from '../boot/boot-helpers.ts';

function session(): MachineSession {
  const fw = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA]);
  return new MachineSession({ module: loadCoreModule(), firmware: { bios: fw.get(SYSTEM_BIOS)!, vgaBios: fw.get(VGA_BIOS_STDVGA)! } });
}

function imageFile(name: string): File {
  return new File([readFileSync(image(name))], name);
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const base = "name = 't'\nbuilder = 'hvm'\nmemory = 32\nserial = 'pty'\n";

describe('MachineSession: building from configuration text', () => {
  it('refuses a broken file with the line and column of each problem', async () => {
    const s = session();
    const r = await s.create({ config: `${base}memory = 'lots'\n`, fileName: 'bad.cfg' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]).toMatchObject({ line: 5, key: 'memory' });
    expect(r.message).toMatch(/^bad\.cfg:5:\d+: memory:/);
    expect(s.status().power).toBe('off');
    expect(s.frame()).toBeNull();
  });

  it('names the file a disk entry wants when it was not dropped', async () => {
    const s = session();
    const r = await s.create({ config: `${base}disk = [ 'file:/srv/xen/guest.img,hda,w' ]\n`, fileName: 'g.cfg', files: [new File([new Uint8Array(1024)], 'other.img')] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0].line).toBe(5);
    expect(r.message).toContain('drop a file named guest.img (dropped: other.img)');
  });

  it('refuses a truncated ISO before the machine exists', async () => {
    if (!imagesAvailable('linux.iso')) return;
    const iso = readFileSync(image('linux.iso'));
    const s = session();
    const r = await s.create({ config: `${base}disk = [ 'linux.iso,hdc:cdrom,r' ]\n`, files: [new File([iso.subarray(0, 1 << 20)], 'linux.iso')] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/truncated/);
  });
});

describe('MachineSession: media at run time', () => {
  it('ejects and inserts CD media, checking the image first', async () => {
    if (!imagesAvailable('linux.iso')) return;
    const s = session();
    const r = await s.create({ config: `${base}disk = [ ',hdc:cdrom,r' ]\n` });
    expect(r).toMatchObject({ ok: true });
    expect(s.status().cdroms).toEqual([{ vdev: 'hdc', present: false }]);
    await s.insertCd(imageFile('linux.iso'));
    expect(s.status().cdroms).toEqual([{ vdev: 'hdc', present: true }]);
    expect(s.status().message).toBe('hdc: disc inserted (linux.iso)');
    await s.ejectCd('hdc');
    expect(s.status().cdroms).toEqual([{ vdev: 'hdc', present: false }]);
    const truncated = new File([readFileSync(image('linux.iso')).subarray(0, 1 << 20)], 'cut.iso');
    await expect(s.insertCd(truncated)).rejects.toThrow(/truncated/);
    await expect(s.ejectCd('hda')).rejects.toThrow(/hda is not a CD-ROM drive of this machine \(CD-ROM drives: hdc\)/);
  });

  it('attaches a second disk only while the machine is off', async () => {
    const s = session();
    expect(await s.create({ config: `${base}disk = [ ',hdc:cdrom,r' ]\n` })).toMatchObject({ ok: true });
    await expect(s.attachDisk('hdc', new File([new Uint8Array(4096)], 'd.img'))).rejects.toThrow(/already in use/);
    await expect(s.attachDisk('hdb', new File([new Uint8Array(100)], 'tiny.img'))).rejects.toThrow(/smaller than one sector/);
    await s.attachDisk('hdb', new File([new Uint8Array(1 << 20)], 'data.img'));
    expect(s.status().message).toContain('hdb: disk attached (data.img');
  });
});

describe.runIf(imagesAvailable('floppy.img'))('MachineSession: running in real time', () => {
  it('boots a floppy, streams serial output, pauses and resumes, powers off', async () => {
    const s = session();
    let serial = '';
    const notes: string[] = [];
    s.listen({ serial: (port, bytes) => { if (port === 0) serial += String.fromCharCode(...bytes); }, note: (m) => notes.push(m) });
    expect(await s.create({ config: `${base}boot = 'a'\nfda = 'floppy.img'\n`, files: [imageFile('floppy.img')] })).toMatchObject({ ok: true, name: 't' });
    const memory = s.videoMemory()!;
    expect(memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(memory.vramBytes).toBe(16 << 20);
    await s.start();
    expect(s.status().power).toBe('running');
    await waitFor('the floppy marker on COM1', () => serial.includes('WEBHVM-FLOPPY-OK'));
    await waitFor('the marker on the screen', () => s.screenText()?.some((l) => l.includes('WEBHVM-FLOPPY-OK')));
    expect(s.status().diskReads).toBe(0); // a floppy is read into memory, not through the block layer
    // The guest halts with interrupts on: guest time keeps following the host clock.
    const t0 = s.frame()!.display.timeNs;
    await new Promise((r) => setTimeout(r, 200));
    const t1 = s.frame()!.display.timeNs;
    expect(t1 - t0).toBeGreaterThan(100e6);
    s.pause();
    expect(s.status()).toMatchObject({ power: 'paused', mips: 0 });
    const p0 = s.frame()!.display.timeNs;
    await new Promise((r) => setTimeout(r, 100));
    expect(s.frame()!.display.timeNs).toBe(p0);
    s.resume();
    expect(s.status().power).toBe('running');
    s.powerOff();
    expect(s.status().power).toBe('off');
    expect(notes).toEqual(['t: running', 't: paused', 't: running', 't: powered off']);
    // Power on again: a fresh machine boots from reset.
    serial = '';
    await s.start();
    await waitFor('the marker after power-on', () => serial.includes('WEBHVM-FLOPPY-OK'));
    const png = s.screenshotPng()!;
    expect([...png.subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
    s.powerOff();
  }, 120_000);
});

describe.runIf(existsSync('build/default-guest.img'))('MachineSession: the boot path in the status', () => {
  it('reports the default guest reading the firmware tables as it happens', async () => {
    const s = session();
    const config = readFileSync('examples/default-guest.cfg', 'utf8');
    const files = [new File([readFileSync('build/default-guest.img')], 'default-guest.img')];
    expect(await s.create({ config, files })).toMatchObject({ ok: true });
    expect(s.status()).toMatchObject({ bootPath: [], bootEvents: 0 });
    await s.start();
    // The guest walks RSDP -> RSDT/XSDT -> the tables and prints them; the trace sees each first read.
    const status = await waitFor('the guest to read the MADT', () => {
      const st = s.status();
      return st.bootPath.some((l) => /^tables read \(real mode\): .*RSDP .*APIC/.test(l)) && st;
    });
    s.powerOff();
    expect(status.bootEvents).toBeGreaterThan(3);
    expect(status.bootPath).toContain('booting from: Floppy');
    expect(status.bootPath).toContain('interrupt mode: virtual wire'); // what SeaBIOS leaves: LINT0 as ExtINT
    const found = status.bootPath.find((l) => l.startsWith('tables found: '));
    expect(found).toMatch(/^tables found: RSDP (RSDT|XSDT).* FACP .*DSDT.* APIC/);
    // Steps are listed in the order they first happened: the boot device before the reads.
    expect(status.bootPath.indexOf('booting from: Floppy')).toBeLessThan(status.bootPath.findIndex((l) => l.startsWith('tables read')));
    // A new machine starts a new boot path.
    expect(await s.create({ config, files })).toMatchObject({ ok: true });
    expect(s.status()).toMatchObject({ bootPath: [], bootEvents: 0 });
  }, 120_000);
});
