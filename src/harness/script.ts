/**
 * Boot-test scripts for `webhvm test`: steps run in order against one deterministic machine.
 * Two spellings, the same steps (docs/reproducible.md lists them):
 *
 *   # line format: one step per line, '#' starts a comment
 *   config linux-cd.cfg
 *   timeout 300
 *   wait serial WEBHVM-GUEST-READY
 *   send "echo hi\n"
 *
 *   JSON: { "config": "linux-cd.cfg", "timeout": 300, "steps": ["wait serial WEBHVM-GUEST-READY", "send \"echo hi\\n\""] }
 */
import { parseFingerprint, type Fingerprint } from '../machine/fingerprint.ts';

export type Step =
  | { kind: 'wait-serial'; regex: RegExp }
  | { kind: 'wait-screen'; regex: RegExp }
  | { kind: 'wait-insns'; insns: bigint }
  | { kind: 'wait-time'; ns: number }
  | { kind: 'send'; text: string }
  | { kind: 'type'; text: string }
  | { kind: 'key'; codes: string[] }
  | { kind: 'tablet'; x: number; y: number; buttons: number }
  | { kind: 'screenshot'; file: string }
  | { kind: 'fingerprint'; expect: Partial<Fingerprint> }
  | { kind: 'eject'; drive: string }
  | { kind: 'insert'; drive: string; file: string }
  | { kind: 'snapshot'; file: string };

export interface ScriptStep {
  step: Step;
  /** The step as written, for reports. */
  text: string;
  line: number;
}

export interface TestScript {
  config?: string;
  /** Seconds each waiting step may take (host time). */
  timeoutSeconds: number;
  steps: ScriptStep[];
}

export class ScriptError extends Error {
  constructor(fileName: string, line: number, message: string) {
    super(`${fileName}:${line}: ${message}`);
    this.name = 'ScriptError';
  }
}

const DRIVES = /^hd[a-d]$/;

export function parseScript(text: string, fileName = 'script'): TestScript {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    let json: { config?: unknown; timeout?: unknown; steps?: unknown };
    try {
      json = JSON.parse(text) as typeof json;
    } catch (e) {
      throw new ScriptError(fileName, 1, `not valid JSON: ${(e as Error).message}`);
    }
    if (!Array.isArray(json.steps) || !json.steps.every((s) => typeof s === 'string')) {
      throw new ScriptError(fileName, 1, '"steps" must be a list of step strings');
    }
    const lines = [
      ...(json.config !== undefined ? [`config ${String(json.config)}`] : []),
      ...(json.timeout !== undefined ? [`timeout ${String(json.timeout)}`] : []),
      ...(json.steps as string[]),
    ];
    return parseLines(lines.map((l, i) => [l, i + 1]), fileName);
  }
  return parseLines(text.split('\n').map((l, i) => [l, i + 1]), fileName);
}

function parseLines(lines: [string, number][], fileName: string): TestScript {
  const script: TestScript = { timeoutSeconds: 300, steps: [] };
  for (const [raw, line] of lines) {
    const text = raw.trim();
    if (!text || text.startsWith('#')) continue;
    const fail = (m: string) => new ScriptError(fileName, line, m);
    const [word, ...restWords] = text.split(/\s+/);
    const rest = text.slice(word.length).trim();
    const regex = (source: string) => {
      if (!source) throw fail(`${word}: expected a regular expression`);
      try {
        return new RegExp(source);
      } catch (e) {
        throw fail(`${word}: ${(e as Error).message}`);
      }
    };
    const string = (source: string) => {
      try {
        const v = JSON.parse(source) as unknown;
        if (typeof v === 'string') return v;
      } catch {
        /* reported below */
      }
      throw fail(`${word}: expected a string in double quotes (JSON escapes such as \\n), got ${source || 'nothing'}`);
    };
    const drive = (d: string | undefined) => {
      if (!d || !DRIVES.test(d)) throw fail(`${word}: expected a drive hda-hdd, got ${d ?? 'nothing'}`);
      return d;
    };
    const add = (step: Step) => script.steps.push({ step, text, line });
    switch (word) {
      case 'config':
        if (!rest) throw fail('config: expected a configuration file');
        script.config = rest;
        break;
      case 'timeout': {
        const s = Number(rest);
        if (!(s > 0)) throw fail(`timeout: expected a positive number of seconds, got ${rest}`);
        script.timeoutSeconds = s;
        break;
      }
      case 'wait': {
        const [what] = restWords;
        const arg = rest.slice(what?.length ?? 0).trim();
        if (what === 'serial') add({ kind: 'wait-serial', regex: regex(arg) });
        else if (what === 'screen') add({ kind: 'wait-screen', regex: regex(arg) });
        else if (what === 'insns' && /^\d+$/.test(arg)) add({ kind: 'wait-insns', insns: BigInt(arg) });
        else if (what === 'time') add({ kind: 'wait-time', ns: duration(arg, fail) });
        else throw fail(`wait: expected 'serial REGEX', 'screen REGEX', 'insns N' or 'time 500ms|2s', got '${rest}'`);
        break;
      }
      case 'send':
        add({ kind: 'send', text: string(rest) });
        break;
      case 'type':
        add({ kind: 'type', text: string(rest) });
        break;
      case 'key':
        if (!restWords.length) throw fail('key: expected key names (KeyboardEvent.code: Enter, KeyA, F12, ...)');
        add({ kind: 'key', codes: restWords });
        break;
      case 'tablet': {
        const [x, y, b = 0] = restWords.map(Number);
        if (![x, y, b].every(Number.isFinite) || x < 0 || x > 1 || y < 0 || y > 1) throw fail('tablet: expected X Y (0 to 1) and optional BUTTONS');
        add({ kind: 'tablet', x, y, buttons: b });
        break;
      }
      case 'screenshot':
      case 'snapshot':
        if (!rest) throw fail(`${word}: expected a file name`);
        add({ kind: word, file: rest });
        break;
      case 'fingerprint':
        try {
          add({ kind: 'fingerprint', expect: rest ? parseFingerprint(rest) : {} });
        } catch (e) {
          throw fail((e as Error).message);
        }
        break;
      case 'eject':
        add({ kind: 'eject', drive: drive(restWords[0]) });
        break;
      case 'insert':
        if (restWords.length < 2) throw fail('insert: expected a drive and an image file');
        add({ kind: 'insert', drive: drive(restWords[0]), file: rest.slice(restWords[0].length).trim() });
        break;
      default:
        throw fail(`unknown step '${word}' (steps: wait, send, type, key, tablet, screenshot, fingerprint, eject, insert, snapshot)`);
    }
  }
  return script;
}

function duration(text: string, fail: (m: string) => Error): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text);
  if (!m) throw fail(`wait time: expected a duration such as 500ms or 2s, got '${text}'`);
  return Number(m[1]) * (m[2] === 'ms' ? 1e6 : 1e9);
}

/** Characters the `type` step can press on a US keyboard: KeyboardEvent.code and whether Shift is held. */
export function keysForText(text: string): { code: string; shift: boolean }[] {
  const plain: Record<string, string> = {
    ' ': 'Space', '\n': 'Enter', '\t': 'Tab', '-': 'Minus', '=': 'Equal', '[': 'BracketLeft', ']': 'BracketRight',
    '\\': 'Backslash', ';': 'Semicolon', "'": 'Quote', '`': 'Backquote', ',': 'Comma', '.': 'Period', '/': 'Slash',
  };
  const shifted: Record<string, string> = {
    '!': 'Digit1', '@': 'Digit2', '#': 'Digit3', $: 'Digit4', '%': 'Digit5', '^': 'Digit6', '&': 'Digit7', '*': 'Digit8',
    '(': 'Digit9', ')': 'Digit0', _: 'Minus', '+': 'Equal', '{': 'BracketLeft', '}': 'BracketRight', '|': 'Backslash',
    ':': 'Semicolon', '"': 'Quote', '~': 'Backquote', '<': 'Comma', '>': 'Period', '?': 'Slash',
  };
  return [...text].map((ch) => {
    if (/[a-z]/.test(ch)) return { code: `Key${ch.toUpperCase()}`, shift: false };
    if (/[A-Z]/.test(ch)) return { code: `Key${ch}`, shift: true };
    if (/[0-9]/.test(ch)) return { code: `Digit${ch}`, shift: false };
    if (plain[ch]) return { code: plain[ch], shift: false };
    if (shifted[ch]) return { code: shifted[ch], shift: true };
    throw new Error(`type: no key for ${JSON.stringify(ch)} on a US keyboard`);
  });
}
