/**
 * Structure of the test guest images (test/images/build-guests.sh): the El Torito boot record
 * and ISOLINUX boot info table of the CDs, the MBR, partition and SYSLINUX FAT16 volume of the
 * disk, the boot sector of the floppy, the initramfs contents. Booting them is the boot
 * tests' business; verify-qemu.sh checks that they boot under QEMU.
 *
 * The floppy and the cpio writer are checked from their sources every time (nasm, node). The
 * built images are checked when test/images/out/ holds them, and skipped otherwise, unless
 * WEBHVM_REQUIRE_IMAGES=1 (CI after build-guests.sh), which makes missing images a failure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = process.env.WEBHVM_IMAGES_OUT ?? join(HERE, 'out');
const REQUIRE = process.env.WEBHVM_REQUIRE_IMAGES === '1';
const MARKER = 'WEBHVM-GUEST-READY';
const CMDLINE = 'console=ttyS0,115200 console=tty0 cryptomgr.notests';
const SECTOR = 512;
const ISO_BLOCK = 2048;

const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const ascii = (b: Uint8Array, o: number, n: number) => String.fromCharCode(...b.subarray(o, o + n));
const includes = (b: Uint8Array, text: string) => Buffer.from(b.buffer, b.byteOffset, b.length).includes(text);

function tempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'webhvm-images-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function assembleFloppy(): Uint8Array {
  return tempDir((dir) => {
    const out = join(dir, 'floppy.img');
    execFileSync('nasm', ['-f', 'bin', '-o', out, join(HERE, 'floppy.asm')], { stdio: ['ignore', 'ignore', 'pipe'] });
    return new Uint8Array(readFileSync(out));
  });
}

// ---------------------------------------------------------------------------------------------
// cpio "newc"

interface CpioEntry { name: string; mode: number; rdevMajor: number; rdevMinor: number; mtime: number; data: Uint8Array }

function parseCpio(buf: Uint8Array): Map<string, CpioEntry> {
  const entries = new Map<string, CpioEntry>();
  let off = 0;
  for (;;) {
    const magic = ascii(buf, off, 6);
    if (magic !== '070701') throw new Error(`bad cpio magic ${JSON.stringify(magic)} at ${off}`);
    const field = (i: number) => parseInt(ascii(buf, off + 6 + i * 8, 8), 16);
    const mode = field(1), mtime = field(5), size = field(6), rdevMajor = field(9), rdevMinor = field(10), nameSize = field(11);
    const name = ascii(buf, off + 110, nameSize - 1);
    off = (off + 110 + nameSize + 3) & ~3;
    const data = buf.subarray(off, off + size);
    off = (off + size + 3) & ~3;
    if (name === 'TRAILER!!!') return entries;
    entries.set(name, { name, mode, rdevMajor, rdevMinor, mtime, data });
  }
}

// ---------------------------------------------------------------------------------------------
// ISO 9660

interface IsoFile { lba: number; size: number; dir: boolean }

function isoRecords(iso: Uint8Array, dir: IsoFile): Map<string, IsoFile> {
  const out = new Map<string, IsoFile>();
  const start = dir.lba * ISO_BLOCK;
  let off = 0;
  while (off < dir.size) {
    const len = iso[start + off];
    if (len === 0) {
      off = (Math.floor(off / ISO_BLOCK) + 1) * ISO_BLOCK; // records do not cross blocks
      continue;
    }
    const r = start + off;
    const nameLen = iso[r + 32];
    const raw = ascii(iso, r + 33, nameLen);
    if (!(nameLen === 1 && (raw === '\0' || raw === '\x01'))) {
      const name = raw.replace(/;1$/, '').replace(/\.$/, '').toLowerCase();
      out.set(name, { lba: u32(iso, r + 2), size: u32(iso, r + 10), dir: (iso[r + 25] & 2) !== 0 });
    }
    off += len;
  }
  return out;
}

function isoLookup(iso: Uint8Array, path: string): IsoFile {
  const pvd = 16 * ISO_BLOCK;
  let cur: IsoFile = { lba: u32(iso, pvd + 156 + 2), size: u32(iso, pvd + 156 + 10), dir: true };
  for (const part of path.split('/').filter(Boolean)) {
    const next = isoRecords(iso, cur).get(part.toLowerCase());
    if (!next) throw new Error(`${path}: no ${part} in the ISO 9660 directory`);
    cur = next;
  }
  return cur;
}

const isoRead = (iso: Uint8Array, f: IsoFile) => iso.subarray(f.lba * ISO_BLOCK, f.lba * ISO_BLOCK + f.size);

// ---------------------------------------------------------------------------------------------
// Linux boot protocol

function expectBzImage(kernel: Uint8Array, release?: string) {
  expect(u16(kernel, 0x1fe)).toBe(0xaa55);
  expect(ascii(kernel, 0x202, 4)).toBe('HdrS');
  expect(u16(kernel, 0x206)).toBeGreaterThanOrEqual(0x020c); // 2.12+: initrd anywhere below 4G
  expect(kernel[0x211] & 1).toBe(1); // LOADED_HIGH: a bzImage
  if (release) {
    const versionAt = u16(kernel, 0x20e) + 0x200;
    expect(ascii(kernel, versionAt, release.length)).toBe(release);
  }
}

// ---------------------------------------------------------------------------------------------

describe('floppy.img (from floppy.asm)', () => {
  const img = assembleFloppy();

  it('is a 1.44 MB image with a boot signature and a short jump over the BPB', () => {
    expect(img.length).toBe(1474560);
    expect(img[510]).toBe(0x55);
    expect(img[511]).toBe(0xaa);
    expect(img[0]).toBe(0xeb);
    expect(img[1] + 2).toBe(0x3e); // code starts after the extended BPB
  });

  it('carries a FAT12 BPB for a 3.5" 1.44 MB disk and two empty FATs', () => {
    expect(u16(img, 11)).toBe(512);
    expect(img[13]).toBe(1);
    expect(u16(img, 14)).toBe(1);
    expect(img[16]).toBe(2);
    expect(u16(img, 17)).toBe(224);
    expect(u16(img, 19)).toBe(2880);
    expect(img[21]).toBe(0xf0);
    expect(u16(img, 22)).toBe(9);
    expect(u16(img, 24)).toBe(18);
    expect(u16(img, 26)).toBe(2);
    expect(img[38]).toBe(0x29);
    expect(ascii(img, 54, 8)).toBe('FAT12   ');
    for (const fat of [1, 10]) expect([...img.subarray(fat * SECTOR, fat * SECTOR + 4)]).toEqual([0xf0, 0xff, 0xff, 0]);
  });

  it('holds the marker text, INT 10h teletype calls and COM1 line status polling in the boot sector', () => {
    const boot = img.subarray(0, SECTOR);
    expect(includes(boot, 'WEBHVM-FLOPPY-OK\r\n')).toBe(true);
    const has = (...bytes: number[]) => Buffer.from(boot).includes(Buffer.from(bytes));
    expect(has(0xb4, 0x0e)).toBe(true); // mov ah, 0Eh
    expect(has(0xcd, 0x10)).toBe(true); // int 10h
    expect(has(0xba, 0xfd, 0x03)).toBe(true); // mov dx, 3FDh (COM1 line status)
    expect(has(0xba, 0xf8, 0x03)).toBe(true); // mov dx, 3F8h (COM1 transmit)
    expect(has(0xfa, 0xf4)).toBe(true); // cli; hlt
  });

  it('matches the built out/floppy.img when there is one', () => {
    const built = join(OUT, 'floppy.img');
    if (!existsSync(built)) return;
    expect(Buffer.compare(readFileSync(built), Buffer.from(img))).toBe(0);
  });
});

describe('mkcpio.mjs', () => {
  it('writes a newc archive with directories, files, symlinks and device nodes owned by root', () => {
    const entries = tempDir((dir) => {
      writeFileSync(join(dir, 'hello'), 'hello world\n');
      writeFileSync(join(dir, 'list'), [
        '# comment',
        'dir /dev 0755',
        'nod /dev/console 0600 c 5 1',
        `file /init ${join(dir, 'hello')} 0755`,
        'slink /bin/sh busybox 0777',
      ].join('\n'));
      execFileSync('node', [join(HERE, 'mkcpio.mjs'), join(dir, 'list'), join(dir, 'out.cpio')], {
        env: { ...process.env, SOURCE_DATE_EPOCH: '1234567890' },
      });
      const raw = new Uint8Array(readFileSync(join(dir, 'out.cpio')));
      expect(raw.length % 512).toBe(0);
      return parseCpio(raw);
    });
    expect([...entries.keys()]).toEqual(['dev', 'dev/console', 'init', 'bin/sh']);
    expect(entries.get('dev')!.mode).toBe(0o040755);
    const console_ = entries.get('dev/console')!;
    expect([console_.mode, console_.rdevMajor, console_.rdevMinor]).toEqual([0o020600, 5, 1]);
    expect(entries.get('init')!.mode).toBe(0o100755);
    expect(Buffer.from(entries.get('init')!.data).toString()).toBe('hello world\n');
    expect(entries.get('bin/sh')!.mode).toBe(0o120777);
    expect(Buffer.from(entries.get('bin/sh')!.data).toString()).toBe('busybox');
    for (const e of entries.values()) expect(e.mtime).toBe(1234567890);
  });
});

// ---------------------------------------------------------------------------------------------

const built = existsSync(join(OUT, 'stamp')) && existsSync(join(OUT, 'manifest.json'));
if (!built && !REQUIRE) {
  console.warn(`images.test.ts: ${OUT} has no built images; run test/images/build-guests.sh to check them`);
}

interface Manifest {
  cmdline: string;
  markers: { linux: string; floppy: string };
  kernels: Record<string, { release: string; kernel: string; initrd: string }>;
  images: Record<string, { kind: string; flavour?: string; partitionStart?: number; partitionSectors?: number }>;
}

describe.skipIf(!built && !REQUIRE)('built guest images', () => {
  const file = (name: string) => new Uint8Array(readFileSync(join(OUT, name)));
  const manifest = (): Manifest => JSON.parse(readFileSync(join(OUT, 'manifest.json'), 'utf8'));

  it('has a manifest naming the kernels, markers and command line', () => {
    const m = manifest();
    expect(m.cmdline).toBe(CMDLINE);
    expect(m.markers).toEqual({ linux: MARKER, floppy: 'WEBHVM-FLOPPY-OK' });
    expect(Object.keys(m.kernels).sort()).toEqual(['686', '686-pae']);
    expect(m.kernels['686'].release).toMatch(/^6\.1\.0-\d+-686$/);
    expect(m.kernels['686-pae'].release).toMatch(/^6\.1\.0-\d+-686-pae$/);
  });

  for (const flavour of ['686', '686-pae']) {
    it(`vmlinuz-${flavour} is an i386 bzImage of the release in the manifest`, () => {
      expectBzImage(file(`vmlinuz-${flavour}`), manifest().kernels[flavour].release);
    });

    it(`initrd-${flavour}.gz is a gzip'd newc cpio with busybox, /init and the driver modules`, () => {
      const gz = file(`initrd-${flavour}.gz`);
      expect([gz[0], gz[1]]).toEqual([0x1f, 0x8b]);
      const entries = parseCpio(new Uint8Array(gunzipSync(gz)));
      const init = entries.get('init')!;
      expect(init.mode).toBe(0o100755);
      const initText = Buffer.from(init.data).toString();
      expect(initText.startsWith('#!/bin/sh\n')).toBe(true);
      expect(initText).toContain(MARKER);
      expect(initText).toContain('/dev/ttyS0');
      const busybox = entries.get('bin/busybox')!;
      expect(ascii(busybox.data, 0, 4)).toBe('\x7fELF');
      expect(busybox.data[4]).toBe(1); // ELFCLASS32
      expect(u16(busybox.data, 18)).toBe(3); // EM_386
      expect(Buffer.from(entries.get('bin/sh')!.data).toString()).toBe('busybox');
      const console_ = entries.get('dev/console')!;
      expect([console_.mode & 0o170000, console_.rdevMajor, console_.rdevMinor]).toEqual([0o020000, 5, 1]);
      const order = Buffer.from(entries.get('lib/modules/load-order')!.data).toString().trim().split('\n');
      for (const m of ['ata_piix.ko', 'sr_mod.ko', 'sd_mod.ko', '8139too.ko', '8139cp.ko', 'isofs.ko', 'vfat.ko']) {
        expect(order).toContain(m);
      }
      // Dependencies are loaded first.
      expect(order.indexOf('libata.ko')).toBeLessThan(order.indexOf('ata_piix.ko'));
      expect(order.indexOf('cdrom.ko')).toBeLessThan(order.indexOf('sr_mod.ko'));
      expect(order.indexOf('mii.ko')).toBeLessThan(order.indexOf('8139too.ko'));
      for (const m of order) {
        const ko = entries.get(`lib/modules/${m}`);
        expect(ko, m).toBeDefined();
        expect(ascii(ko!.data, 0, 4)).toBe('\x7fELF');
        expect(includes(ko!.data, `vermagic=${manifest().kernels[flavour].release} `)).toBe(true);
      }
      // Only busybox, /init and modules: small.
      expect(gz.length).toBeLessThan(4 * 1024 * 1024);
    });
  }

  it('initrd-686-ne2k.gz is initrd-686.gz with the NE2000 PCI driver loaded last (the v86 peer of the network bench)', () => {
    const base = parseCpio(new Uint8Array(gunzipSync(file('initrd-686.gz'))));
    const peer = parseCpio(new Uint8Array(gunzipSync(file('initrd-686-ne2k.gz'))));
    const order = (e: Map<string, CpioEntry>) => Buffer.from(e.get('lib/modules/load-order')!.data).toString().trim().split('\n');
    expect(order(peer)).toEqual([...order(base), '8390.ko', 'ne2k_pci.ko']);
    for (const [name, entry] of base) {
      if (name !== 'lib/modules/load-order') expect(Buffer.compare(Buffer.from(peer.get(name)!.data), Buffer.from(entry.data)), name).toBe(0);
    }
    for (const m of ['8390.ko', 'ne2k_pci.ko']) {
      expect(includes(peer.get(`lib/modules/${m}`)!.data, `vermagic=${manifest().kernels['686'].release} `)).toBe(true);
    }
  });

  for (const [name, flavour] of [['linux.iso', '686'], ['linux-pae.iso', '686-pae']] as const) {
    describe(name, () => {
      it('has a primary volume descriptor and an El Torito boot record', () => {
        const iso = file(name);
        expect(iso.length % ISO_BLOCK).toBe(0);
        const pvd = 16 * ISO_BLOCK;
        expect(iso[pvd]).toBe(1);
        expect(ascii(iso, pvd + 1, 5)).toBe('CD001');
        expect(u32(iso, pvd + 80) * ISO_BLOCK).toBe(iso.length); // volume space size
        let br = -1;
        for (let lba = 16; lba < 32; lba++) {
          const o = lba * ISO_BLOCK;
          if (ascii(iso, o + 1, 5) !== 'CD001' || iso[o] === 255) break;
          if (iso[o] === 0) br = o;
        }
        expect(br).toBeGreaterThan(0);
        expect(ascii(iso, br + 7, 32)).toBe('EL TORITO SPECIFICATION'.padEnd(32, '\0'));
      });

      it('has a valid boot catalog whose default entry loads ISOLINUX with a boot info table', () => {
        const iso = file(name);
        let br = 17 * ISO_BLOCK;
        while (iso[br] !== 0) br += ISO_BLOCK;
        const cat = u32(iso, br + 0x47) * ISO_BLOCK;
        // Validation entry: header 1, platform 0 (x86), key 55 AA, words sum to zero.
        expect(iso[cat]).toBe(1);
        expect(iso[cat + 1]).toBe(0);
        expect([iso[cat + 0x1e], iso[cat + 0x1f]]).toEqual([0x55, 0xaa]);
        let sum = 0;
        for (let i = 0; i < 32; i += 2) sum = (sum + u16(iso, cat + i)) & 0xffff;
        expect(sum).toBe(0);
        // Initial/default entry: bootable, no emulation, 4 virtual sectors at 07C0:0000.
        const e = cat + 32;
        expect(iso[e]).toBe(0x88);
        expect(iso[e + 1]).toBe(0);
        const loadSeg = u16(iso, e + 2);
        expect(loadSeg === 0 || loadSeg === 0x7c0).toBe(true);
        expect(u16(iso, e + 6)).toBe(4);
        const rba = u32(iso, e + 8);
        const isolinux = isoLookup(iso, 'isolinux/isolinux.bin');
        expect(rba).toBe(isolinux.lba);
        // Boot info table (-boot-info-table): PVD LBA, file LBA, file length, checksum.
        const bin = isoRead(iso, isolinux);
        expect(u32(bin, 8)).toBe(16);
        expect(u32(bin, 12)).toBe(isolinux.lba);
        expect(u32(bin, 16)).toBe(isolinux.size);
        let csum = 0;
        for (let o = 64; o + 4 <= bin.length; o += 4) csum = (csum + u32(bin, o)) >>> 0;
        expect(u32(bin, 20)).toBe(csum);
        expect(includes(bin, 'ISOLINUX')).toBe(true);
      });

      it('boots the kernel and initramfs with the serial console command line', () => {
        const iso = file(name);
        const cfg = Buffer.from(isoRead(iso, isoLookup(iso, 'isolinux/isolinux.cfg'))).toString();
        expect(cfg).toMatch(/^SERIAL 0 115200$/m);
        expect(cfg).toMatch(/^\s*LINUX \/boot\/vmlinuz$/m);
        expect(cfg).toMatch(/^\s*INITRD \/boot\/initrd\.gz$/m);
        expect(cfg).toContain(`APPEND ${CMDLINE}`);
        expect(isoLookup(iso, 'isolinux/ldlinux.c32').size).toBeGreaterThan(0);
        const kernel = isoRead(iso, isoLookup(iso, 'boot/vmlinuz'));
        expectBzImage(kernel, manifest().kernels[flavour].release);
        expect(Buffer.compare(kernel, file(`vmlinuz-${flavour}`))).toBe(0);
        expect(Buffer.compare(isoRead(iso, isoLookup(iso, 'boot/initrd.gz')), file(`initrd-${flavour}.gz`))).toBe(0);
      });
    });
  }

  describe('linux-hd.img', () => {
    const MBR_BIN = '/usr/lib/syslinux/mbr/mbr.bin';

    it('has an MBR with SYSLINUX boot code, a boot signature and one active FAT16 partition', () => {
      const disk = file('linux-hd.img');
      expect(disk.length % SECTOR).toBe(0);
      expect([disk[510], disk[511]]).toEqual([0x55, 0xaa]);
      if (existsSync(MBR_BIN)) {
        const mbr = readFileSync(MBR_BIN);
        expect(Buffer.compare(disk.subarray(0, mbr.length), mbr)).toBe(0);
      }
      expect(disk.subarray(0, 440).some((b) => b !== 0)).toBe(true);
      const parts = [0, 1, 2, 3].map((i) => {
        const o = 446 + i * 16;
        return { status: disk[o], type: disk[o + 4], start: u32(disk, o + 8), sectors: u32(disk, o + 12) };
      });
      const used = parts.filter((p) => p.type !== 0);
      expect(used).toHaveLength(1);
      const p = used[0];
      expect(parts[0]).toEqual(p);
      expect(p.status).toBe(0x80);
      expect([0x04, 0x06, 0x0e]).toContain(p.type);
      const m = manifest().images['linux-hd.img'];
      expect(p.start).toBe(m.partitionStart);
      expect(p.sectors).toBe(m.partitionSectors);
      expect(p.start).toBeGreaterThan(0);
      expect(p.start + p.sectors).toBeLessThanOrEqual(disk.length / SECTOR);
      for (const q of parts) if (q !== p) expect(q.status).toBe(0);
    });

    it('has a SYSLINUX FAT16 boot sector whose BPB describes the partition', () => {
      const disk = file('linux-hd.img');
      const start = u32(disk, 446 + 8);
      const sectors = u32(disk, 446 + 12);
      const vbr = disk.subarray(start * SECTOR, start * SECTOR + SECTOR);
      expect([vbr[510], vbr[511]]).toEqual([0x55, 0xaa]);
      expect(vbr[0]).toBe(0xeb);
      expect(u16(vbr, 11)).toBe(512);
      expect(u32(vbr, 28)).toBe(start); // hidden sectors = partition offset
      expect(u16(vbr, 19) || u32(vbr, 32)).toBe(sectors);
      expect(ascii(vbr, 54, 8)).toBe('FAT16   ');
      expect(ascii(vbr, 3, 8)).toBe('SYSLINUX');
    });

    it('holds SYSLINUX, its configuration, the kernel and the initramfs', () => {
      const disk = file('linux-hd.img');
      const base = u32(disk, 446 + 8) * SECTOR;
      const vbr = disk.subarray(base, base + SECTOR);
      const secPerClus = vbr[13], reserved = u16(vbr, 14), nFats = vbr[16], rootEntries = u16(vbr, 17), fatSize = u16(vbr, 22);
      const fat = disk.subarray(base + reserved * SECTOR, base + (reserved + fatSize) * SECTOR);
      const rootAt = base + (reserved + nFats * fatSize) * SECTOR;
      const dataAt = rootAt + rootEntries * 32;
      const clusterBytes = secPerClus * SECTOR;
      const readChain = (first: number, size: number) => {
        const out = Buffer.alloc(size);
        let c = first, done = 0;
        while (done < size) {
          expect(c).toBeGreaterThanOrEqual(2);
          expect(c).toBeLessThan(0xfff8);
          const o = dataAt + (c - 2) * clusterBytes;
          const n = Math.min(clusterBytes, size - done);
          out.set(disk.subarray(o, o + n), done);
          done += n;
          c = u16(fat, c * 2);
        }
        return out;
      };
      const listDir = (at: number, count: number) => {
        const m = new Map<string, { attr: number; cluster: number; size: number }>();
        for (let i = 0; i < count; i++) {
          const e = at + i * 32;
          if (disk[e] === 0) break;
          if (disk[e] === 0xe5 || disk[e + 11] === 0x0f || disk[e + 11] & 8) continue;
          const name = ascii(disk, e, 8).trimEnd() + (ascii(disk, e + 8, 3).trim() ? '.' + ascii(disk, e + 8, 3).trim() : '');
          m.set(name, { attr: disk[e + 11], cluster: u16(disk, e + 26), size: u32(disk, e + 28) });
        }
        return m;
      };
      const root = listDir(rootAt, rootEntries);
      expect([...root.keys()]).toEqual(expect.arrayContaining(['SYSLINUX', 'VMLINUZ', 'INITRD.GZ']));
      const sysdir = root.get('SYSLINUX')!;
      expect(sysdir.attr & 0x10).toBe(0x10);
      const sub = listDir(dataAt + (sysdir.cluster - 2) * clusterBytes, clusterBytes / 32);
      expect([...sub.keys()]).toEqual(expect.arrayContaining(['LDLINUX.SYS', 'LDLINUX.C32', 'SYSLINUX.CFG']));
      const cfgEntry = sub.get('SYSLINUX.CFG')!;
      const cfg = readChain(cfgEntry.cluster, cfgEntry.size).toString();
      expect(cfg).toMatch(/^\s*LINUX \/vmlinuz$/m);
      expect(cfg).toMatch(/^\s*INITRD \/initrd\.gz$/m);
      expect(cfg).toContain(`APPEND ${CMDLINE}`);
      const flavour = manifest().images['linux-hd.img'].flavour!;
      const k = root.get('VMLINUZ')!;
      const kernel = readChain(k.cluster, k.size);
      expect(Buffer.compare(kernel, file(`vmlinuz-${flavour}`))).toBe(0);
      const i = root.get('INITRD.GZ')!;
      expect(Buffer.compare(readChain(i.cluster, i.size), file(`initrd-${flavour}.gz`))).toBe(0);
    });
  });
});
