#!/usr/bin/env node
// Installs the firmware files listed in bios/manifest.json into bios/firmware/ (git-ignored).
//
// Node-only command-line tool; nothing in src/ imports it.
//
// For each file it, in order:
//   1. keeps a copy already in bios/firmware/ whose SHA-256 matches (so a second run is instant);
//   2. copies it from the system, if the Debian package is installed and the file there matches;
//   3. otherwise runs `apt-get download <package>` in a temporary directory (no root needed),
//      unpacks the .deb with `dpkg-deb -x` and copies the file out.
// Every file is checked against the manifest's SHA-256 before it lands in bios/firmware/.
//
// Usage: node bios/install-firmware.mjs [--check] [--dest DIR]
//   --check   only verify what is installed; exit status 1 if anything is missing or wrong
//   --dest    install somewhere other than bios/firmware/

import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const manifest = JSON.parse(readFileSync(join(here, 'manifest.json'), 'utf8'));

const args = process.argv.slice(2);
const checkOnly = args.includes('--check');
const destIndex = args.indexOf('--dest');
const dest = destIndex >= 0 ? resolve(args[destIndex + 1] ?? '') : join(here, 'firmware');
const FIX = 'node bios/install-firmware.mjs';

function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function matches(path, entry) {
  return existsSync(path) && sha256(path) === entry.sha256;
}

class InstallError extends Error {}

function fail(message) {
  console.error(`install-firmware: ${message}`);
  process.exit(1);
}

/** Inside the download loop: stop, but let the temporary directory be removed first. */
function stop(message) {
  throw new InstallError(message);
}

/** Verify `src` and move it into place atomically, so an interrupted run never leaves a bad file. */
function install(src, entry) {
  const got = sha256(src);
  if (got !== entry.sha256) return got;
  mkdirSync(dest, { recursive: true });
  const tmp = join(dest, `.${entry.name}.partial`);
  copyFileSync(src, tmp);
  renameSync(tmp, join(dest, entry.name));
  return undefined;
}

const missing = manifest.files.filter((f) => !matches(join(dest, f.name), f));
if (missing.length === 0) {
  console.log(`install-firmware: all ${manifest.files.length} firmware files present and verified in ${dest}`);
  process.exit(0);
}
if (checkOnly) {
  for (const f of missing) {
    const path = join(dest, f.name);
    console.error(existsSync(path)
      ? `install-firmware: ${path} has SHA-256 ${sha256(path)}, expected ${f.sha256}`
      : `install-firmware: ${path} is missing`);
  }
  fail(`${missing.length} file(s) missing or wrong; run: ${FIX}`);
}

// 2. Files from an installed package (e.g. /usr/share/seabios/bios-256k.bin).
const stillMissing = [];
for (const f of missing) {
  const system = '/' + f.path;
  if (matches(system, f) && install(system, f) === undefined) {
    console.log(`install-firmware: ${f.name} copied from ${system}`);
  } else {
    stillMissing.push(f);
  }
}

// 3. Download the packages that are still needed.
const packages = [...new Set(stillMissing.map((f) => f.package))];
const errors = [];
if (packages.length) {
  const work = mkdtempSync(join(tmpdir(), 'webhvm-firmware-'));
  // apt-get download drops privileges to _apt when run as root; let it write here.
  chmodSync(work, 0o755);
  try {
    for (const pkg of packages) {
      const dl = spawnSync('apt-get', ['download', pkg], { cwd: work, encoding: 'utf8' });
      if (dl.error) {
        stop(`cannot run apt-get (${dl.error.message}). The firmware comes from Debian's '${pkg}' package: ` +
          `on a Debian or Ubuntu system run ${FIX}; elsewhere copy the files listed in bios/manifest.json into ${dest}.`);
      }
      if (dl.status !== 0) {
        const err = (dl.stderr || '').trim();
        const listsMissing = /Unable to locate package|no installation candidate|not available/i.test(err);
        stop(`apt-get download ${pkg} failed:\n${err}\n` + (listsMissing
          ? `The package lists are missing or stale. Run 'apt-get update' as root, then ${FIX} again.`
          : `Check network access to the Debian mirror, then run ${FIX} again.`));
      }
      const deb = readdirSync(work).find((n) => n.startsWith(`${pkg}_`) && n.endsWith('.deb'));
      if (!deb) stop(`apt-get download ${pkg} succeeded but left no .deb in ${work}`);
      const version = spawnSync('dpkg-deb', ['-f', join(work, deb), 'Version'], { encoding: 'utf8' }).stdout?.trim();
      const tree = join(work, pkg);
      const x = spawnSync('dpkg-deb', ['-x', join(work, deb), tree], { encoding: 'utf8' });
      if (x.error || x.status !== 0) stop(`dpkg-deb -x ${deb} failed: ${x.error?.message ?? x.stderr}`);
      for (const f of stillMissing.filter((e) => e.package === pkg)) {
        const src = join(tree, f.path);
        if (!existsSync(src)) {
          errors.push(`${f.name}: not found at /${f.path} in ${deb}`);
          continue;
        }
        const got = install(src, f);
        if (got === undefined) {
          console.log(`install-firmware: ${f.name} installed from ${deb}`);
        } else {
          const expectedVersion = manifest.packages?.[pkg];
          errors.push(`${f.name}: SHA-256 ${got} does not match the manifest's ${f.sha256}` +
            (expectedVersion && version && version !== expectedVersion
              ? ` (this system offers ${pkg} ${version}; the manifest was made from ${expectedVersion})`
              : ''));
        }
      }
    }
  } catch (e) {
    if (e instanceof InstallError) errors.push(e.message);
    else throw e;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (errors.length) fail(`could not install every firmware file:\n  ${errors.join('\n  ')}`);
console.log(`install-firmware: all ${manifest.files.length} firmware files present and verified in ${dest}`);
