#!/usr/bin/env node
// Builds the default guest, build/default-guest.img (a 1.44 MB boot floppy), from the nasm
// sources in this directory. Usage: node bios/default-guest/build.mjs [output path]
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const output = resolve(process.argv[2] ?? join(root, 'build/default-guest.img'));
const FLOPPY_BYTES = 1_474_560;

mkdirSync(dirname(output), { recursive: true });
// A file of this process's own, renamed into place: builds running side by side (parallel tests)
// never see each other's half-written image.
const temporary = `${output}.${process.pid}.tmp`;
const nasm = spawnSync('nasm', ['-f', 'bin', '-w+all', '-I', `${here}/`, '-o', temporary, join(here, 'default-guest.asm')], {
  stdio: 'inherit',
});
if (nasm.error) {
  console.error(`default guest: cannot run nasm (${nasm.error.message}); install it, e.g. apt-get install nasm`);
  process.exit(1);
}
if (nasm.status !== 0) process.exit(nasm.status ?? 1);
const size = statSync(temporary).size;
if (size !== FLOPPY_BYTES) {
  console.error(`default guest: nasm wrote ${size} bytes, expected a ${FLOPPY_BYTES}-byte floppy image`);
  process.exit(1);
}
renameSync(temporary, output);
console.log(`default guest: ${output}`);
