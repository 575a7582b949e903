/**
 * Tokenizer for xl/xm domain configuration files.
 *
 * The accepted language is the part of Python that xm configuration files use, which is a
 * superset of xl's `KEY = VALUE` syntax (xl: tools/libs/util/libxlu_cfg_l.l; xm: the files
 * were executed by Python 2):
 * - `#` comments, `;` or a newline between statements, `\` at the end of a line continues it,
 *   newlines inside brackets/parentheses do not end a statement;
 * - names may contain `-` (xm's `device-model`), so `a-b` is one name;
 * - integers in decimal, `0x` hexadecimal and `0`/`0o` octal (as xl reads them), floats (only
 *   so that they can be refused with a good message);
 * - strings in single, double or triple quotes, with an optional r/u/b prefix, and Python's
 *   backslash escapes; a single-quoted string ends at the end of its line.
 *
 * An unterminated string or bracket is reported with the position of its opening character;
 * the tokenizer then recovers so that later problems are reported too.
 */
import type { ConfigProblem } from './diagnostics.ts';

export type TokenKind = 'name' | 'number' | 'string' | 'op' | 'newline';

export interface Token {
  kind: TokenKind;
  /** The source text of the token (for strings: including prefix and quotes). */
  text: string;
  line: number;
  column: number;
  /** number: the value; string: the value after escapes. */
  value?: number | string;
  /** number: written with a fraction or exponent. */
  float?: boolean;
  /**
   * string: the body has no escapes and lies on one line, so character `i` of the value sits at
   * column `column + prefix + quote + i` and problems inside the string can point at it.
   */
  bodyColumn?: number;
  /** A string or bracket that was never closed: a problem has already been reported. */
  broken?: boolean;
}

export interface LexResult {
  tokens: Token[];
  problems: ConfigProblem[];
}

const OPERATORS = [
  '**=', '//=', '>>=', '<<=',
  '==', '!=', '<=', '>=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '**', '//', '<<', '>>', '<>',
  '=', '+', '-', '*', '/', '%', ',', ':', ';', '.', '(', ')', '[', ']', '{', '}', '<', '>', '&', '|', '^', '~', '@', '`',
];
const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/** A line that starts a new setting at the left margin: `memory = 512`, not `memory == 512`. */
const SETTING_AT_MARGIN = /^[A-Za-z_][A-Za-z0-9_-]*[ \t]*=(?!=)/;

export function tokenize(text: string): LexResult {
  const tokens: Token[] = [];
  const problems: ConfigProblem[] = [];
  const open: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const col = (at: number) => at - lineStart + 1;

  const newline = (at: number) => {
    const last = tokens[tokens.length - 1];
    if (open.length === 0 && last && last.kind !== 'newline') {
      tokens.push({ kind: 'newline', text: '\n', line, column: col(at) });
    }
  };
  const closeAllUnclosed = () => {
    for (const t of open) {
      t.broken = true;
      problems.push({
        line: t.line,
        column: t.column,
        message: `'${t.text}' is never closed: expected '${OPENERS[t.text]}'`,
      });
    }
    open.length = 0;
  };

  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n' || c === '\r') {
      newline(i);
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      lineStart = i;
      // Inside brackets, a new setting at the left margin means the bracket was never closed:
      // report it there and carry on with the new setting.
      if (open.length > 0 && SETTING_AT_MARGIN.test(text.slice(i, i + 200))) {
        closeAllUnclosed();
        tokens.push({ kind: 'newline', text: '\n', line, column: 1 });
      }
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
      continue;
    }
    if (c === '\\' && (text[i + 1] === '\n' || text[i + 1] === '\r')) {
      i += text[i + 1] === '\r' && text[i + 2] === '\n' ? 3 : 2;
      line++;
      lineStart = i;
      continue;
    }
    const startColumn = col(i);
    const prefix = /^[rRuUbB]{1,2}(?=['"])/.exec(text.slice(i, i + 3));
    if (c === '"' || c === "'" || prefix) {
      const pre = prefix ? prefix[0] : '';
      const raw = /r/i.test(pre);
      const q = text[i + pre.length]!;
      const triple = text.startsWith(q.repeat(3), i + pre.length);
      const quote = triple ? q.repeat(3) : q;
      const startLine = line;
      let j = i + pre.length + quote.length;
      const bodyStart = j;
      let value = '';
      let escaped = false;
      let closed = false;
      let multiLine = false;
      while (j < text.length) {
        const d = text[j]!;
        if (text.startsWith(quote, j)) {
          closed = true;
          break;
        }
        if (d === '\n' || d === '\r') {
          if (!triple) break;
          multiLine = true;
          value += '\n';
          j += d === '\r' && text[j + 1] === '\n' ? 2 : 1;
          line++;
          lineStart = j;
          continue;
        }
        if (d === '\\' && j + 1 < text.length) {
          escaped = true;
          const e = text[j + 1]!;
          if (raw) {
            value += d + e;
            j += 2;
            continue;
          }
          const [decoded, used, bad] = decodeEscape(text, j);
          if (bad) problems.push({ line, column: col(j), message: bad });
          if (e === '\n' || e === '\r') {
            line++;
            lineStart = j + used;
            multiLine = true;
          }
          value += decoded;
          j += used;
          continue;
        }
        value += d;
        j++;
      }
      const end = closed ? j + quote.length : j;
      const token: Token = {
        kind: 'string',
        text: text.slice(i, end),
        line: startLine,
        column: startColumn,
        value,
      };
      if (!escaped && !multiLine) token.bodyColumn = startColumn + (bodyStart - i);
      if (!closed) {
        token.broken = true;
        problems.push({
          line: startLine,
          column: startColumn,
          message: `unterminated string: expected a closing ${quote} before the end of the ${triple ? 'file' : 'line'}`,
        });
      }
      tokens.push(token);
      i = end;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?\.?)[lLjJ]?/.exec(text.slice(i))!;
      let t = m[0];
      // Python 2's long suffix changes nothing here.
      const body = t.replace(/[lL]$/, '').replace(/_/g, '');
      const token: Token = { kind: 'number', text: t, line, column: startColumn, value: 0 };
      if (/^0[xX]/.test(body)) token.value = parseInt(body.slice(2), 16);
      else if (/^0[oO]/.test(body)) token.value = parseInt(body.slice(2), 8);
      else if (/^0[bB]/.test(body)) token.value = parseInt(body.slice(2), 2);
      else if (/[.eEjJ]/.test(body)) {
        token.value = parseFloat(body);
        token.float = true;
      } else if (/^0[0-7]+$/.test(body)) token.value = parseInt(body, 8);
      else if (/^0\d+$/.test(body)) {
        problems.push({ line, column: startColumn, message: `'${t}' is not a valid number: a leading 0 means octal, and 8 and 9 are not octal digits` });
        token.value = parseInt(body, 10);
      } else token.value = parseInt(body, 10);
      // A name glued to a number (`512MB`) is one malformed word, not two tokens.
      const glued = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + t.length));
      if (glued) {
        t += glued[0];
        tokens.push({ kind: 'name', text: t, line, column: startColumn });
        i += t.length;
        continue;
      }
      tokens.push(token);
      i += t.length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      // A hyphen joins words (`device-model`) unless it is followed by something that cannot
      // continue a name (`x -1`, `a - b`).
      const m = /^[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z_][A-Za-z0-9_]*)*/.exec(text.slice(i))!;
      tokens.push({ kind: 'name', text: m[0], line, column: startColumn });
      i += m[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      const token: Token = { kind: 'op', text: op, line, column: startColumn };
      if (OPENERS[op]) open.push(token);
      else if (CLOSERS[op]) {
        const top = open[open.length - 1];
        if (top && top.text === CLOSERS[op]) open.pop();
        else {
          problems.push({
            line,
            column: startColumn,
            message: top
              ? `'${op}' does not match '${top.text}' at ${top.line}:${top.column}: expected '${OPENERS[top.text]}'`
              : `'${op}' closes nothing`,
          });
          token.broken = true;
        }
      }
      tokens.push(token);
      i += op.length;
      continue;
    }
    problems.push({ line, column: startColumn, message: `unexpected character '${c}'` });
    tokens.push({ kind: 'op', text: c, line, column: startColumn, broken: true });
    i++;
  }
  closeAllUnclosed();
  newline(i);
  return { tokens, problems };
}

/** Decodes the escape at `text[at] === '\\'`: [value, characters used, problem or undefined]. */
function decodeEscape(text: string, at: number): [string, number, string | undefined] {
  const e = text[at + 1]!;
  const simple: Record<string, string> = {
    '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v',
  };
  if (e in simple) return [simple[e]!, 2, undefined];
  if (e === '\n') return ['', 2, undefined];
  if (e === '\r') return ['', text[at + 2] === '\n' ? 3 : 2, undefined];
  if (/[0-7]/.test(e)) {
    const m = /^[0-7]{1,3}/.exec(text.slice(at + 1))!;
    return [String.fromCharCode(parseInt(m[0], 8)), 1 + m[0].length, undefined];
  }
  const hex = (n: number): [string, number, string | undefined] => {
    const digits = text.slice(at + 2, at + 2 + n);
    if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) {
      return ['', 2, `invalid \\${e} escape: expected ${n} hexadecimal digits`];
    }
    const code = parseInt(digits, 16);
    if (code > 0x10ffff) return ['', 2 + n, `invalid \\${e} escape: ${digits} is beyond Unicode`];
    return [String.fromCodePoint(code), 2 + n, undefined];
  };
  if (e === 'x') return hex(2);
  if (e === 'u') return hex(4);
  if (e === 'U') return hex(8);
  // Python keeps an unknown escape as written.
  return ['\\' + e, 2, undefined];
}
