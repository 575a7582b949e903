/**
 * NODE-ONLY: `webhvm test <script>`: boot a configuration in deterministic mode and run a
 * script of steps against it (src/harness/script.ts), for CI. Exit status 0 when every step
 * passed, 1 when one failed, 2 for a bad script, configuration or image, 3 when the emulator
 * failed. On failure the last screen (PNG) and the serial log are written beside the report.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { basename, dirname, resolve, join } from 'node:path';
import { ConfigError } from '../config/diagnostics.ts';
import { ImageError } from '../storage/image-checks.ts';
import { OverlayMismatchError } from '../storage/overlay-store.ts';
import { encodePng } from '../display/png.ts';
import { parseScript, ScriptError, type TestScript } from '../harness/script.ts';
import { runScript } from '../harness/run-script.ts';
import { junitReport } from '../harness/junit.ts';
import { formatInputLog } from '../harness/input-log.ts';
import { buildMachineFromConfig, type BuiltMachine } from './deterministic-machine.ts';

export const testUsage = `usage: webhvm test <script> [--config FILE] [--junit FILE] [--artifacts DIR] [--persist] [--verbose] [--input-log FILE]
  Runs the script's steps against the configuration it names (or --config), in deterministic
  mode. --junit writes a JUnit XML report; on failure the last screen (failure.png), the serial
  log (serial.log) and the input log (input.log) go to --artifacts (default: the script's
  directory); --input-log always writes the input taken, for webhvm run --replay. --browser (headless Chromium) is not available yet: it comes with the page.`;

export async function testCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        junit: { type: 'string' },
        artifacts: { type: 'string' },
        persist: { type: 'boolean' },
        verbose: { type: 'boolean' },
        'input-log': { type: 'string' },
        browser: { type: 'boolean' },
      },
    });
  } catch (e) {
    console.error(`webhvm test: ${(e as Error).message}\n${testUsage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.browser) {
    console.error('webhvm test: --browser is not available yet (it needs the page); run without it to test in Node');
    return 2;
  }
  if (positionals.length !== 1) {
    console.error(testUsage);
    return 2;
  }
  const scriptPath = positionals[0];
  const base = dirname(resolve(scriptPath));
  let script: TestScript;
  try {
    script = parseScript(await readFile(scriptPath, 'utf8'), basename(scriptPath));
  } catch (e) {
    console.error(`webhvm test: ${e instanceof ScriptError ? e.message : `${scriptPath}: ${(e as Error).message}`}`);
    return 2;
  }
  const configPath = values.config ?? (script.config ? resolve(base, script.config) : undefined);
  if (!configPath) {
    console.error(`webhvm test: ${scriptPath} names no configuration ('config FILE') and --config is not given`);
    return 2;
  }
  let built: BuiltMachine;
  try {
    built = await buildMachineFromConfig(configPath, {
      deterministic: true,
      persist: values.persist,
      session: {
        onSerialByte: (port, byte) => {
          if (port === 0 && values.verbose) process.stdout.write(String.fromCharCode(byte));
        },
        onNote: (m) => console.error(`webhvm: ${m}`),
      },
    });
  } catch (e) {
    const known = e instanceof ConfigError || e instanceof ImageError || e instanceof OverlayMismatchError;
    console.error(`webhvm: ${known ? (e as Error).message : (e as Error).message ?? e}`);
    return 2;
  }
  const { config, session, machine } = built;
  session.options.onPoweroff = config.onPoweroff;
  session.options.onReboot = config.onReboot;
  const results = await runScript(script, session, {
    writeFile: (name, data) => writeFile(resolve(base, name), data),
    prepareMedia: async (name) => {
      const path = resolve(base, name);
      await built.prepareMedia(path);
      return path;
    },
    log: (line) => console.log(line),
  });
  for (const r of results) {
    const mark = r.status === 'passed' ? 'ok  ' : r.status === 'failed' ? 'FAIL' : 'skip';
    console.log(`${mark} ${r.step.line}: ${r.step.text}${r.message ? ` -- ${r.message}` : ''}`);
  }
  const failed = results.find((r) => r.status === 'failed');
  if (failed) {
    const dir = values.artifacts ? resolve(values.artifacts) : base;
    await mkdir(dir, { recursive: true });
    const frame = machine.screenshot();
    await writeFile(join(dir, 'failure.png'), encodePng(frame.width, frame.height, frame.rgba));
    await writeFile(join(dir, 'serial.log'), session.serialText);
    await writeFile(join(dir, 'input.log'), formatInputLog(session.inputLog));
    console.log(`webhvm test: failure artifacts in ${dir} (failure.png, serial.log, input.log)`);
  }
  if (values['input-log']) await writeFile(values['input-log'], formatInputLog(session.inputLog));
  if (values.junit) await writeFile(values.junit, junitReport(basename(scriptPath), results, session.serialText.slice(-65536)));
  await built.close();
  const passed = results.filter((r) => r.status === 'passed').length;
  console.log(`webhvm test: ${basename(scriptPath)}: ${passed} of ${results.length} steps passed`);
  if (!failed) return 0;
  return /the emulator failed/.test(failed.message ?? '') ? 3 : 1;
}
