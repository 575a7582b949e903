/**
 * `window.webhvm`: the page's machine for tests and power users. Every MachineApi method (as an
 * async call into the worker; screenText joins the lines), plus what the page itself knows: the serial text so far, the
 * text screen, a PNG of the picture on the canvas, and typing text as key presses. For
 * deterministic machines (docs/reproducible.md): runUntil, fingerprint (the runner's
 * `fingerprint:` line), input, prepareCd, serialLog, inputLog.
 */
import type { Remote } from 'comlink';
import type { MachineApi } from '../src/worker/machine-api.ts';
import { encodePng } from '../src/display/png.ts';
import { textToKeyEvents } from './text-keys.ts';
import type { Display } from './display.ts';
import type { SerialTerminal } from './terminal.ts';

const API_METHODS = [
  'create', 'start', 'pause', 'resume', 'reset', 'powerOff', 'sendCtrlAltDel', 'keys', 'pointerAbsolute',
  'pointerRelative', 'serialInput', 'ejectCd', 'insertCd', 'attachDisk', 'status', 'frame',
  'screenshotPng', 'runUntil', 'fingerprint', 'input', 'prepareCd', 'serialLog', 'inputLog',
] as const;

export interface PageAutomation {
  serialText(): string;
  screenText(): Promise<string | null>;
  /** PNG bytes of the canvas picture (the guest framebuffer as painted). */
  screenshot(): Uint8Array | null;
  sendKeys(text: string): Promise<void>;
  /** Boot files as if dropped on the page. */
  bootFiles(files: File[]): Promise<boolean>;
  [method: string]: unknown;
}

export function installAutomation(api: Remote<MachineApi>, display: Display, terminal: SerialTerminal, bootFiles: (files: File[]) => Promise<boolean>): PageAutomation {
  const automation: PageAutomation = {
    serialText: () => terminal.serialText(),
    screenText: async () => (await api.screenText())?.join('\n') ?? null,
    screenshot: () => {
      if (!display.lastFrame) return null;
      const { width, height, rgba } = display.canvasPixels();
      return encodePng(width, height, rgba);
    },
    // Typed for the guest's layout (the configuration's keymap).
    sendKeys: async (text: string) => api.keys(textToKeyEvents(text, (await api.status()).keymap)),
    bootFiles,
  };
  for (const name of API_METHODS) {
    automation[name] = (...args: unknown[]) => (api[name] as unknown as (...a: unknown[]) => Promise<unknown>)(...args);
  }
  (window as unknown as { webhvm: PageAutomation }).webhvm = automation;
  return automation;
}
