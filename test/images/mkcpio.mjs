#!/usr/bin/env node
// Writes an uncompressed cpio archive in the "newc" format the Linux kernel unpacks as an
// initramfs, from a list like the kernel's usr/gen_init_cpio takes:
//   dir   <name> <mode>
//   file  <name> <source path> <mode>
//   slink <name> <target> <mode>
//   nod   <name> <mode> c|b <major> <minor>
// Everything is owned by root, every mtime is SOURCE_DATE_EPOCH (default 0) and inode numbers
// follow the list order, so the same list and files give the same bytes, without root rights.
// Usage: node mkcpio.mjs <list> <output.cpio>
import { readFileSync, writeFileSync } from 'node:fs';

const [listPath, outPath] = process.argv.slice(2);
if (!listPath || !outPath) {
  console.error('usage: mkcpio.mjs <list> <output.cpio>');
  process.exit(2);
}
const mtime = Number(process.env.SOURCE_DATE_EPOCH ?? 0);
const chunks = [];
let size = 0;
let ino = 721;

const hex = (n) => (n >>> 0).toString(16).padStart(8, '0');
const push = (buf) => {
  chunks.push(buf);
  size += buf.length;
};
const pad4 = () => {
  const rem = size % 4;
  if (rem) push(Buffer.alloc(4 - rem));
};

function entry(name, mode, { data = Buffer.alloc(0), nlink = 1, rdevMajor = 0, rdevMinor = 0 } = {}) {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const fields = [ino++, mode, 0, 0, nlink, mtime, data.length, 0, 0, rdevMajor, rdevMinor, nameBytes.length, 0];
  push(Buffer.from(`070701${fields.map(hex).join('')}`, 'ascii'));
  push(nameBytes);
  pad4();
  push(data);
  pad4();
}

const S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_IFCHR = 0o020000, S_IFBLK = 0o060000;
const lines = readFileSync(listPath, 'utf8').split('\n');
lines.forEach((raw, i) => {
  const line = raw.trim();
  if (!line || line.startsWith('#')) return;
  const f = line.split(/\s+/);
  const name = f[1].replace(/^\/+/, '');
  const where = `${listPath}:${i + 1}`;
  switch (f[0]) {
    case 'dir':
      entry(name, S_IFDIR | parseInt(f[2], 8), { nlink: 2 });
      break;
    case 'file':
      entry(name, S_IFREG | parseInt(f[3], 8), { data: readFileSync(f[2]) });
      break;
    case 'slink':
      entry(name, S_IFLNK | parseInt(f[3], 8), { data: Buffer.from(f[2], 'utf8') });
      break;
    case 'nod':
      entry(name, (f[3] === 'b' ? S_IFBLK : S_IFCHR) | parseInt(f[2], 8), {
        rdevMajor: Number(f[4]),
        rdevMinor: Number(f[5]),
      });
      break;
    default:
      console.error(`${where}: unknown entry type '${f[0]}'`);
      process.exit(1);
  }
});
ino = 0;
entry('TRAILER!!!', 0);
// Pad the archive to a 512-byte multiple like cpio(1) does.
if (size % 512) push(Buffer.alloc(512 - (size % 512)));
writeFileSync(outPath, Buffer.concat(chunks));
