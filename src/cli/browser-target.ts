/**
 * NODE-ONLY: a ScriptTarget (src/harness/script-target.ts) that drives the page's deterministic
 * machine in headless Chromium through window.webhvm (web/automation.ts): each step becomes a
 * runUntil, input or fingerprint call into the page's worker, where the same harness Session as
 * in Node runs the machine. A page or worker failure ends the run as 'crash'.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { parseFingerprint, type Fingerprint } from '../machine/fingerprint.ts';
import type { InputAction } from '../harness/input-log.ts';
import type { ScriptTarget, TargetGoal, TargetOutcome } from '../harness/script-target.ts';
import type { RunRequest, RunResult } from '../worker/deterministic-api.ts';
import type { BrowserServer } from './browser-server-node.ts';

/** window.webhvm as far as this file uses it. */
interface PageMachine {
  runUntil(request: RunRequest): Promise<RunResult>;
  input(action: InputAction): Promise<void>;
  fingerprint(): Promise<string | null>;
  screenshotPng(): Promise<Uint8Array | null>;
  saveSnapshot(): Promise<Uint8Array>;
  status(): Promise<{ pointer: string }>;
  prepareCd(media: { url: string }): Promise<string>;
  serialLog(): Promise<string | null>;
  inputLog(): Promise<string | null>;
}
type PageWindow = { webhvm: PageMachine };

export class BrowserTarget implements ScriptTarget {
  private serialShown = 0;

  constructor(
    private readonly page: Page,
    private readonly server: BrowserServer,
    /** Where the script's file names are relative to. */
    private readonly baseDir: string,
    /** Echo COM1 output after each wait (--verbose). */
    private readonly echo?: (text: string) => void,
  ) {}

  async run(goal: TargetGoal): Promise<TargetOutcome> {
    const request: RunRequest = {
      serial: goal.serial?.source, serialFlags: goal.serial?.flags,
      screen: goal.screen?.source, screenFlags: goal.screen?.flags,
      insns: goal.insns?.toString(), forNs: goal.forNs, ioIdle: goal.ioIdle, timeoutMs: goal.timeoutMs,
    };
    let result: RunResult;
    try {
      result = await this.page.evaluate((r) => (window as unknown as PageWindow).webhvm.runUntil(r), request);
    } catch (e) {
      return { end: 'crash', error: `the page failed: ${(e as Error).message}` };
    }
    if (this.echo) {
      const text = (await this.serialText()).slice(this.serialShown);
      this.serialShown += text.length;
      if (text) this.echo(text);
    }
    return result.error === undefined ? { end: result.end } : { end: result.end, error: result.error };
  }

  async input(action: InputAction): Promise<void> {
    await this.page.evaluate((a) => (window as unknown as PageWindow).webhvm.input(a), action);
  }

  async fingerprint(): Promise<Fingerprint> {
    const line = await this.page.evaluate(() => (window as unknown as PageWindow).webhvm.fingerprint());
    if (!line) throw new Error('the page has no deterministic machine to take a fingerprint of');
    return parseFingerprint(line) as Fingerprint;
  }

  async screenshotPng(): Promise<Uint8Array> {
    const png = await this.bytesFromPage('screenshot');
    if (png === null) throw new Error('the page has no machine to take a screenshot of');
    return png;
  }

  async hasTablet(): Promise<boolean> {
    return (await this.page.evaluate(() => (window as unknown as PageWindow).webhvm.status())).pointer === 'tablet';
  }

  /** The page saves the machine as the runner does (the same file format, the serial record along). */
  async snapshot(): Promise<Uint8Array> {
    return (await this.bytesFromPage('snapshot'))!;
  }

  /** Bytes the page makes, in base64 across the page boundary (a PNG or a snapshot is megabytes). */
  private async bytesFromPage(what: 'screenshot' | 'snapshot'): Promise<Uint8Array | null> {
    const base64 = await this.page.evaluate(async (kind) => {
      const api = (window as unknown as PageWindow).webhvm;
      const bytes = kind === 'screenshot' ? await api.screenshotPng() : await api.saveSnapshot();
      if (!bytes) return null;
      let text = '';
      for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(text);
    }, what);
    return base64 === null ? null : new Uint8Array(Buffer.from(base64, 'base64'));
  }

  async prepareMedia(name: string): Promise<string> {
    const path = resolve(this.baseDir, name);
    if (!existsSync(path)) throw new Error(`${name}: no such file (${path})`);
    const url = this.server.addFile(path);
    return this.page.evaluate((u) => (window as unknown as PageWindow).webhvm.prepareCd({ url: u }), url);
  }

  async serialText(): Promise<string> {
    return (await this.page.evaluate(() => (window as unknown as PageWindow).webhvm.serialLog())) ?? '';
  }

  async inputLog(): Promise<string> {
    return (await this.page.evaluate(() => (window as unknown as PageWindow).webhvm.inputLog())) ?? '';
  }
}
