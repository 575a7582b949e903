import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { imagesAvailable, image, runWebhvm, writeConfig } from '../boot/boot-helpers.ts';

/** A VM that boots the project's floppy, which prints WEBHVM-FLOPPY-OK on COM1 and halts. */
function floppyVm(name: string, dir?: string): string {
  const text = `name = '${name}'\nbuilder = 'hvm'\nmemory = 16\nacpi = 0\napic = 0\nboot = 'a'\nfda = '${image('floppy.img')}'\n`;
  if (!dir) return writeConfig(text, `${name}.cfg`);
  const path = join(dir, `${name}.cfg`);
  writeFileSync(path, text);
  return path;
}

describe.runIf(imagesAvailable('floppy.img'))('webhvm run with several configurations', () => {
  it('runs both VMs, prefixes their lines, and ends when each matched its own pattern', async () => {
    const a = floppyVm('fa');
    const b = floppyVm('fb', dirname(a));
    const shot = join(dirname(a), 'screen.png');
    const r = await runWebhvm([a, b, '--until', 'fa=FLOPPY-OK', '--until', 'fb=WEBHVM-FLOPPY', '--timeout', '120', '--screenshot', shot]);
    expect(r.stdout).toMatch(/^fa\| WEBHVM-FLOPPY-OK/m);
    // Each VM stops at the instruction whose byte completed its match: fb's line ends at its pattern.
    expect(r.stdout).toMatch(/^fb\| WEBHVM-FLOPPY/m);
    expect(r.stdout).toMatch(/webhvm: fa ended: matched\nwebhvm: fb ended: matched/);
    expect(existsSync(join(dirname(a), 'screen-fa.png')) && existsSync(join(dirname(a), 'screen-fb.png'))).toBe(true);
    expect(r.code).toBe(0);
  }, 200_000);

  it('has the worst exit status of its VMs: one matched, one timed out', async () => {
    const a = floppyVm('fa');
    const b = floppyVm('fb', dirname(a));
    const r = await runWebhvm([a, b, '--until', 'fa=FLOPPY-OK', '--until', 'fb=NEVER-PRINTED', '--timeout', '8']);
    expect(r.stdout).toMatch(/webhvm: fa ended: matched\nwebhvm: fb ended: timeout/);
    expect(r.stderr).toContain('--- last serial lines of fb ---');
    expect(r.code).toBe(1);
  }, 200_000);

  it('refuses two VMs of the same name before either starts', async () => {
    const a = floppyVm('same');
    const r = await runWebhvm([a, a, '--until', 'x']);
    expect(r.stderr).toContain("another configuration already names a VM 'same'");
    expect(r.stdout).not.toContain('ended:');
    expect(r.code).toBe(2);
  }, 60_000);
});

describe.runIf(imagesAvailable('floppy.img'))('webhvm run --relay', () => {
  it('connects the bridge of a VM to a relay, and refuses a relay URL that is not ws://', async () => {
    const { startRelayServer } = await import('../../src/cli/relay-server-node.ts');
    const relay = await startRelayServer({ host: '127.0.0.1', port: 0, hostLoopback: false });
    try {
      const cfg = writeConfig(`name = 'relayed'\nbuilder = 'hvm'\nmemory = 16\nacpi = 0\napic = 0\nboot = 'a'\nfda = '${image('floppy.img')}'\nvif = [ 'bridge=xenbr0, model=rtl8139' ]\n`);
      const r = await runWebhvm([cfg, '--relay', relay.url, '--until', 'FLOPPY-OK', '--timeout', '120']);
      expect(r.stderr).toContain(`webhvm: relay open: ${relay.url}`);
      expect(r.stdout).toContain('webhvm: relayed ended: matched');
      expect(r.code).toBe(0);
      await expect.poll(() => relay.stats.clients, { timeout: 5000 }).toBe(0);

      const bad = await runWebhvm([cfg, '--relay', 'http://127.0.0.1:1/', '--until', 'x']);
      expect(bad.stderr).toContain('expected a ws:// or wss:// URL');
      expect(bad.code).toBe(2);
    } finally {
      await relay.close();
    }
  }, 200_000);
});

const fingerprintLines = (stdout: string) => stdout.split('\n').filter((l) => /^(\S+\| )?fingerprint: insns=\d+ /.test(l));

describe('webhvm run: options that cannot be combined honestly are refused before any VM starts', () => {
  const cfg = writeConfig("name = 'x'\nbuilder = 'hvm'\nmemory = 16\nacpi = 0\napic = 0\nboot = 'a'\n");
  const other = join(dirname(cfg), 'y.cfg');
  writeFileSync(other, "name = 'y'\nbuilder = 'hvm'\nmemory = 16\nacpi = 0\napic = 0\nboot = 'a'\n");
  const cases: [string, string[], RegExp][] = [
    ['--deterministic with --relay', [cfg, '--deterministic', '--relay', 'ws://127.0.0.1:9/'], /--deterministic cannot be combined with --relay/],
    ['--save-at with several VMs', [cfg, other, '--deterministic', '--save-at', '1000', 'x.snap'], /--save-at takes one configuration/],
    ['--restore with several VMs', [cfg, other, '--deterministic', '--restore', 'x.snap'], /--restore takes one configuration/],
    ['--trace-boot with --restore', [cfg, '--deterministic', '--restore', 'x.snap', '--trace-boot', 'trace.jsonl'], /--trace-boot cannot be combined with --restore/],
    ['--replay without --deterministic', [cfg, '--replay', 'in.log'], /--replay needs --deterministic/],
    ['--save-at without its file', [cfg, '--deterministic', '--save-at', '1000'], /--save-at: expected an instruction count or a serial regex, then a file/],
    ['--save-at with a bad regex', [cfg, '--deterministic', '--save-at', '(', 'x.snap'], /--save-at: Invalid regular expression/],
    ['an unknown option', [cfg, '--no-such-option'], /Unknown option '--no-such-option'/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const r = await runWebhvm(args, [], { deterministic: false });
      expect(r.stderr).toMatch(message);
      expect(r.stdout).not.toContain('ended:');
      expect(r.code).toBe(2);
    }, 60_000);
  }
});

describe.runIf(imagesAvailable('floppy.img'))('webhvm run --deterministic combined with the other options', () => {
  it('two VMs on one bridge: a prefixed fingerprint line per VM, equal run after run, with --trace-boot and --tftp', async () => {
    const vif = "vif = [ 'bridge=xenbr0, model=rtl8139' ]\n";
    const a = writeConfig(`name = 'da'\nbuilder = 'hvm'\nmemory = 16\nacpi = 0\napic = 0\nboot = 'a'\nfda = '${image('floppy.img')}'\n${vif}`);
    const b = join(dirname(a), 'db.cfg');
    writeFileSync(b, `name = 'db'\nbuilder = 'hvm'\nmemory = 24\nacpi = 0\napic = 0\nboot = 'a'\nfda = '${image('floppy.img')}'\n${vif}`);
    const trace = join(dirname(a), 'trace.jsonl');
    const args = [a, b, '--deterministic', '--until', 'FLOPPY-OK', '--timeout', '120', '--trace-boot', trace, '--tftp', dirname(a)];
    const first = await runWebhvm(args);
    expect(first.code, first.stderr).toBe(0);
    const lines = fingerprintLines(first.stdout);
    expect(lines.map((l) => l.slice(0, 4))).toEqual(['da| ', 'db| ']);
    // The fingerprint lines come just before the ended lines.
    expect(first.stdout.trimEnd().split('\n').slice(-4)).toEqual([...lines, 'webhvm: da ended: matched', 'webhvm: db ended: matched']);
    // Different memory sizes: different RAM, so the two lines are not one VM's printed twice.
    expect(lines[0].replace(/^da\| /, '')).not.toBe(lines[1].replace(/^db\| /, ''));
    for (const name of ['da', 'db']) {
      const events = readFileSync(join(dirname(a), `trace-${name}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind?: string });
      expect(events.length).toBeGreaterThan(0);
    }
    const second = await runWebhvm(args);
    expect(second.code).toBe(0);
    expect(fingerprintLines(second.stdout)).toEqual(lines);
  }, 300_000);

  it('--save-at N then --restore reaches the fingerprint of the uninterrupted run; --input-log writes the input taken', async () => {
    const cfg = writeConfig(`name = 'sr'\nbuilder = 'hvm'\nmemory = 16\nacpi = 0\napic = 0\nboot = 'a'\nfda = '${image('floppy.img')}'\n`);
    const snap = join(dirname(cfg), 'sr.snap');
    const log = join(dirname(cfg), 'input.log');
    const saved = await runWebhvm([cfg, '--deterministic', '--until', 'FLOPPY-OK', '--timeout', '120', '--save-at', '5000000', snap, '--input-log', log]);
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stderr).toMatch(/saved .*sr\.snap at insns=(\d+)/);
    expect(Number(/at insns=(\d+)/.exec(saved.stderr)![1])).toBeGreaterThanOrEqual(5_000_000);
    expect(existsSync(log)).toBe(true);
    const [fingerprint] = fingerprintLines(saved.stdout);
    expect(fingerprint).toBeDefined();
    const restored = await runWebhvm([cfg, '--deterministic', '--until', 'FLOPPY-OK', '--timeout', '120', '--restore', snap]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stderr).toMatch(/restored .*sr\.snap at insns=\d+/);
    expect(fingerprintLines(restored.stdout)).toEqual([fingerprint]);
    // A save point the run never reaches: said so, no file.
    const late = join(dirname(cfg), 'late.snap');
    const never = await runWebhvm([cfg, '--deterministic', '--until', 'FLOPPY-OK', '--timeout', '120', '--save-at', '99999999999', late]);
    expect(never.stderr).toContain('before the save point: no snapshot written');
    expect(existsSync(late)).toBe(false);
  }, 300_000);
});
