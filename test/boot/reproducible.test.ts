/**
 * Reproducible boots of the real Linux guest through the command-line runner: equal
 * fingerprints run after run, a snapshot restored in a new process reaching the same later
 * fingerprint as the uninterrupted run (with one vCPU and with two), damaged snapshots refused, and a persistent overlay
 * keeping every write the guest flushed when the runner is killed in the middle of a write loop.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { imagesAvailable, image, runWebhvm, writeConfig } from './boot-helpers.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const common = "builder = 'hvm'\nmemory = 128\nacpi = 0\napic = 0\nvcpus = 1\nserial = 'pty'\non_reboot = 'destroy'\n";
// The guest prints the marker, then "uname-r: ..." and "cpus: 1": stop at the last of them.
const END = 'cpus: [0-9]';
const fingerprintOf = (stdout: string) => /^fingerprint: insns=\d+ serial=[0-9a-f]{16} screen=[0-9a-f]{16} ram=[0-9a-f]{16}$/m.exec(stdout)?.[0];

describe.runIf(imagesAvailable('linux.iso', 'linux-hd.img'))('reproducible Linux boots', () => {
  const cfg = writeConfig(`name = 'repro'\n${common}boot = 'd'\ndisk = [ 'file:${image('linux.iso')},hdc:cdrom,r' ]\n`);
  const snap = join(dirname(cfg), 'ready.snap');
  let first: string | undefined;

  it('boots twice to the shell marker with equal fingerprints (the first run also saves a snapshot on the way)', async () => {
    const a = await runWebhvm([cfg, '--deterministic', '--quiet', '--until', END, '--timeout', '2400', '--save-at', 'WEBHVM-GUEST-READY', snap]);
    expect(a.stderr).toMatch(/saved .*ready\.snap at insns=\d+/);
    expect(a.stdout).toContain('webhvm: repro ended: matched');
    first = fingerprintOf(a.stdout);
    expect(first).toBeDefined();
    const b = await runWebhvm([cfg, '--deterministic', '--quiet', '--until', END, '--timeout', '2400']);
    expect(b.stdout).toContain('webhvm: repro ended: matched');
    expect(fingerprintOf(b.stdout)).toBe(first);
    // The fingerprint line comes just before the ended line.
    expect(b.stdout.trimEnd().split('\n').slice(-2)[0]).toBe(first);
  }, 5_000_000);

  it('a run restored from the snapshot reaches the same fingerprint as the uninterrupted run', async () => {
    expect(first).toBeDefined();
    const c = await runWebhvm([cfg, '--deterministic', '--quiet', '--until', END, '--timeout', '1200', '--restore', snap]);
    expect(c.stderr).toMatch(/restored .*ready\.snap at insns=\d+/);
    expect(c.stdout).toContain('webhvm: repro ended: matched');
    expect(fingerprintOf(c.stdout)).toBe(first);
  }, 1_300_000);

  it('refuses truncated and corrupt snapshot files with a clear error and exit status 2', async () => {
    const bytes = readFileSync(snap);
    const truncated = join(dirname(cfg), 'truncated.snap');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const corrupt = join(dirname(cfg), 'corrupt.snap');
    const damaged = Buffer.from(bytes);
    damaged[Math.floor(damaged.length * 0.3)] ^= 0x10;
    writeFileSync(corrupt, damaged);
    const t = await runWebhvm([cfg, '--deterministic', '--quiet', '--restore', truncated, '--timeout', '60']);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/truncated/);
    const c = await runWebhvm([cfg, '--deterministic', '--quiet', '--restore', corrupt, '--timeout', '60']);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/corrupt/);
    const other = writeConfig(`name = 'repro'\n${common.replace('memory = 128', 'memory = 96')}boot = 'd'\ndisk = [ 'file:${image('linux.iso')},hdc:cdrom,r' ]\n`);
    const o = await runWebhvm([other, '--deterministic', '--quiet', '--restore', snap, '--timeout', '60']);
    expect(o.code).toBe(2);
    expect(o.stderr).toMatch(/different configuration/);
  }, 300_000);

  it('vcpus=2: a snapshot saved once both CPUs run, restored in a new process, reaches the fingerprint of the run that saved it', async () => {
    const smp = writeConfig(`name = 'repro-smp'\n${common.replace('acpi = 0\napic = 0\nvcpus = 1', 'acpi = 1\napic = 1\nvcpus = 2')}boot = 'd'\ndisk = [ 'file:${image('linux.iso')},hdc:cdrom,r' ]\n`);
    const smpSnap = join(dirname(smp), 'smp.snap');
    // Saved at the boundary after the kernel reports the AP up: the rest of the boot runs on two CPUs from the snapshot.
    const a = await runWebhvm([smp, '--deterministic', '--until', END, '--timeout', '2400', '--save-at', 'smp: Brought up 1 node, 2 CPUs', smpSnap]);
    expect(a.stdout).toContain('cpus: 2');
    expect(a.stderr).toMatch(/saved .*smp\.snap at insns=\d+/);
    expect(a.stdout).toContain('webhvm: repro-smp ended: matched');
    const saved = fingerprintOf(a.stdout);
    expect(saved).toBeDefined();
    const c = await runWebhvm([smp, '--deterministic', '--until', END, '--timeout', '2400', '--restore', smpSnap]);
    expect(c.stderr).toMatch(/restored .*smp\.snap at insns=\d+/);
    expect(c.stdout).toContain('cpus: 2');
    expect(c.stdout).toContain('webhvm: repro-smp ended: matched');
    expect(fingerprintOf(c.stdout)).toBe(saved);
  }, 5_000_000);

  it('keeps every write the guest flushed when the runner is killed in the middle of its write loop', async () => {
    const hd = writeConfig(`name = 'flush'\n${common}boot = 'c'\ndisk = [ 'file:${image('linux-hd.img')},hda,w' ]\n`);
    const overlay = join(dirname(hd), 'flush.hda.overlay');
    // Sector 60000 on is past the partition's files (the guest runs from its initramfs).
    const loop = 'i=0; while [ $i -lt 400 ]; do echo "rec$i" | dd of=/dev/sda bs=512 seek=$((60000+i)) conv=fsync 2>/dev/null && echo "flushed $i"; i=$((i+1)); done\n';
    const flushed = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin/webhvm.js'), 'run', hd, '--persist', '--timeout', '2400'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let typed = false;
      let killedAfter = -1;
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString('latin1');
        if (!typed && out.includes('/ # ')) {
          typed = true;
          child.stdin.write(loop);
        }
        const done = [...out.matchAll(/^flushed (\d+)\r?$/gm)].map((m) => Number(m[1]));
        if (killedAfter < 0 && done.length && Math.max(...done) >= 25) {
          killedAfter = Math.max(...done);
          child.kill('SIGKILL');
        }
      });
      child.on('error', reject);
      child.on('close', () => (killedAfter >= 0 ? resolve(killedAfter) : reject(new Error(`runner ended before the loop ran:\n${out.slice(-2000)}`))));
    });
    expect(existsSync(overlay)).toBe(true);
    const exported = join(dirname(hd), 'exported.img');
    const e = await new Promise<number | null>((resolve) => {
      spawn(process.execPath, [join(ROOT, 'bin/webhvm.js'), 'overlay', 'export', hd, 'hda', exported], { stdio: 'ignore' }).on('close', resolve);
    });
    expect(e).toBe(0);
    const disk = readFileSync(exported);
    for (let i = 0; i <= flushed; i++) {
      const record = `rec${i}\n`;
      expect(disk.subarray((60000 + i) * 512, (60000 + i) * 512 + record.length).toString('latin1')).toBe(record);
    }
    // The original image was never written.
    expect(readFileSync(image('linux-hd.img')).subarray(60000 * 512, 60000 * 512 + 4).toString('latin1')).not.toBe('rec0');
  }, 2_500_000);
});
