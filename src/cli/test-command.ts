/**
 * NODE-ONLY: `webhvm test <script>`: boot a configuration in deterministic mode and run a
 * script of steps against it (src/harness/script.ts), for CI: in this process, or with
 * `--browser` in the production page in headless Chromium (src/cli/browser-machine.ts). The
 * steps mean the same in both (src/harness/run-script.ts over a ScriptTarget). Exit status 0
 * when every step passed, 1 when one failed, 2 for a bad script, configuration or image (or no
 * browser to run in), 3 when the emulator failed. On failure the last screen (PNG), the serial
 * log and the input log are written beside the report.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { basename, dirname, resolve, join } from 'node:path';
import { ConfigError } from '../config/diagnostics.ts';
import { ImageError } from '../storage/image-checks.ts';
import { parseScript, ScriptError, type TestScript } from '../harness/script.ts';
import { runScript, type StepResult } from '../harness/run-script.ts';
import { SessionTarget, type ScriptTarget } from '../harness/script-target.ts';
import { junitReport } from '../harness/junit.ts';
import { buildMachineFromConfig, buildErrorText, type BuiltMachine } from './deterministic-machine.ts';
import { BrowserCreateError, BrowserSetupError, openBrowserMachine, type BrowserMachine } from './browser-machine.ts';
import { BrowserTarget } from './browser-target.ts';

export const testUsage = `usage: webhvm test <script> [--config FILE] [--junit FILE] [--artifacts DIR] [--persist] [--verbose] [--input-log FILE] [--browser [--dist DIR]]
  Runs the script's steps against the configuration it names (or --config), in deterministic
  mode. --junit writes a JUnit XML report; on failure the last screen (failure.png), the serial
  log (serial.log) and the input log (input.log) go to --artifacts (default: the script's
  directory); --input-log always writes the input taken, for webhvm run --replay.
  --browser runs the script in the production page (dist/, from 'npm run build'; --dist DIR for
  another build) in headless Chromium, through playwright-core (the system's Chromium, or
  $WEBHVM_CHROMIUM).`;

interface TestOptions {
  scriptPath: string;
  base: string;
  script: TestScript;
  junit?: string;
  artifacts?: string;
  inputLog?: string;
}

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
        dist: { type: 'string' },
      },
    });
  } catch (e) {
    console.error(`webhvm test: ${(e as Error).message}\n${testUsage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    console.error(testUsage);
    return 2;
  }
  if (values.browser && values.persist) {
    console.error('webhvm test: --persist is not available with --browser (the page keeps overlays in the browser, not in files)');
    return 2;
  }
  if (values.dist && !values.browser) {
    console.error('webhvm test: --dist goes with --browser');
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
  const options: TestOptions = { scriptPath, base, script, junit: values.junit, artifacts: values.artifacts, inputLog: values['input-log'] };
  const verbose = values.verbose ? (text: string) => process.stdout.write(text) : undefined;
  return values.browser ? testInBrowser(configPath, options, values.dist, verbose) : testInNode(configPath, options, values.persist, verbose);
}

async function testInNode(configPath: string, options: TestOptions, persist: boolean | undefined, verbose: ((text: string) => void) | undefined): Promise<number> {
  let built: BuiltMachine;
  try {
    built = await buildMachineFromConfig(configPath, {
      deterministic: true,
      persist,
      session: {
        onSerialByte: (port, byte) => {
          if (port === 0) verbose?.(String.fromCharCode(byte));
        },
        onNote: (m) => console.error(`webhvm: ${m}`),
      },
    });
  } catch (e) {
    console.error(`webhvm: ${buildErrorText(e)}`);
    return 2;
  }
  // The configuration's on_poweroff/on_reboot are the session's (buildMachineFromConfig).
  const { session } = built;
  const target = new SessionTarget(session, async (name) => {
    const path = resolve(options.base, name);
    await built.prepareMedia(path);
    return path;
  });
  try {
    return await runAndReport(target, options);
  } finally {
    await built.close();
  }
}

async function testInBrowser(configPath: string, options: TestOptions, dist: string | undefined, verbose: ((text: string) => void) | undefined): Promise<number> {
  let machine: BrowserMachine;
  try {
    machine = await openBrowserMachine(configPath, { dist: dist && resolve(dist) });
  } catch (e) {
    const known = e instanceof BrowserSetupError || e instanceof BrowserCreateError || e instanceof ConfigError || e instanceof ImageError;
    console.error(`webhvm${known ? '' : ' test: the browser failed'}: ${(e as Error).message ?? e}`);
    return known ? 2 : 3;
  }
  console.error(`webhvm test: ${machine.name} in headless Chromium (${machine.server.url})`);
  try {
    return await runAndReport(new BrowserTarget(machine.page, machine.server, options.base, verbose), options);
  } finally {
    await machine.close();
  }
}

/** Run the steps, print and write what they gave, and return the exit status. */
async function runAndReport(target: ScriptTarget, options: TestOptions): Promise<number> {
  const { script, base, scriptPath } = options;
  const results = await runScript(script, target, {
    writeFile: (name, data) => writeFile(resolve(base, name), data),
    log: (line) => console.log(line),
  });
  for (const r of results) {
    const mark = r.status === 'passed' ? 'ok  ' : r.status === 'failed' ? 'FAIL' : 'skip';
    console.log(`${mark} ${r.step.line}: ${r.step.text}${r.message ? ` -- ${r.message}` : ''}`);
  }
  const failed = results.find((r) => r.status === 'failed');
  const serial = await target.serialText().catch(() => '');
  if (failed) await writeFailureArtifacts(target, options.artifacts ? resolve(options.artifacts) : base, serial);
  if (options.inputLog) await writeFile(options.inputLog, await target.inputLog());
  if (options.junit) await writeFile(options.junit, junitReport(basename(scriptPath), results, serial.slice(-65536)));
  const passed = results.filter((r) => r.status === 'passed').length;
  console.log(`webhvm test: ${basename(scriptPath)}: ${passed} of ${results.length} steps passed`);
  return exitStatus(failed);
}

async function writeFailureArtifacts(target: ScriptTarget, dir: string, serial: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const tryWrite = async (name: string, data: () => Promise<Uint8Array | string>) => {
    try {
      await writeFile(join(dir, name), await data());
      written.push(name);
    } catch (e) {
      console.error(`webhvm test: could not write ${name}: ${(e as Error).message}`);
    }
  };
  await tryWrite('failure.png', () => target.screenshotPng());
  await tryWrite('serial.log', async () => serial);
  await tryWrite('input.log', () => target.inputLog());
  console.log(`webhvm test: failure artifacts in ${dir} (${written.join(', ')})`);
}

function exitStatus(failed: StepResult | undefined): number {
  if (!failed) return 0;
  return /the emulator failed/.test(failed.message ?? '') ? 3 : 1;
}
