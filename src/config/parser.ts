/**
 * Statements and values of a domain configuration file.
 *
 * xl files are `KEY = VALUE` lines; xm files were Python programs, and many carry a preamble
 * such as
 *
 *     import os, re
 *     arch = os.uname()[4]
 *     if re.search('64', arch):
 *         arch_libdir = 'lib64'
 *     else:
 *         arch_libdir = 'lib'
 *     device_model = '/usr/' + arch_libdir + '/xen/bin/qemu-dm'
 *
 * WebHVM runs no Python. It evaluates literals, names assigned earlier in the file and `+`
 * (string concatenation, list concatenation, integer addition); `-` and `*` on integers. Every
 * other statement (import, if/else with its indented body, for, def, print, calls) is skipped
 * with a warning naming its line, and every name it would have set becomes *unknown*: a value
 * built from an unknown name is itself unknown, and the validator decides whether that matters
 * (it does not for `device_model`, which WebHVM ignores).
 */
import type { ConfigProblem, ConfigWarning, SourcePosition } from './diagnostics.ts';
import { type Token, tokenize } from './lexer.ts';

export type Value =
  | { kind: 'int'; value: number; pos: SourcePosition }
  | { kind: 'float'; value: number; pos: SourcePosition }
  | { kind: 'string'; value: string; pos: SourcePosition; bodyColumn?: number }
  | { kind: 'list'; items: Value[]; pos: SourcePosition }
  | { kind: 'none'; pos: SourcePosition }
  /** A name that was never assigned, such as `lots` in `memory = lots`. */
  | { kind: 'bare'; name: string; pos: SourcePosition }
  /** Something WebHVM does not evaluate; `reason` says what. */
  | { kind: 'unknown'; reason: string; pos: SourcePosition };

export interface Assignment extends SourcePosition {
  /** The name as written (`device-model`). */
  name: string;
  value: Value;
}

export interface ParsedFile {
  /** Top-level assignments in file order, a name possibly more than once. */
  assignments: Assignment[];
  /** Every name read by an expression, including inside skipped statements. */
  referenced: Set<string>;
  /** Names of assignments refused for a syntax problem (already reported), so they do not also read as missing. */
  malformed: Set<string>;
  problems: ConfigProblem[];
  warnings: ConfigWarning[];
}

const COMPOUND = new Set(['if', 'elif', 'else', 'for', 'while', 'def', 'class', 'try', 'except', 'finally', 'with']);
const CONTINUATION = new Set(['elif', 'else', 'except', 'finally']);
const SIMPLE_PYTHON = new Set([
  'import', 'from', 'print', 'pass', 'del', 'global', 'assert', 'exec', 'return', 'raise', 'break', 'continue', 'yield', 'lambda',
]);
const EXPRESSION_KEYWORDS = new Set(['if', 'else', 'and', 'or', 'not', 'in', 'is', 'for', 'lambda']);

interface LogicalLine {
  tokens: Token[];
  indent: number;
  line: number;
  lastLine: number;
}

export function parseStatements(text: string): ParsedFile {
  const { tokens, problems } = tokenize(text);
  const warnings: ConfigWarning[] = [];
  const assignments: Assignment[] = [];
  const referenced = new Set<string>();
  const malformed = new Set<string>();
  const variables = new Map<string, Value>();
  /** Names set by skipped code, with the line of the statement that was skipped. */
  const unknown = new Map<string, number>();

  const lines: LogicalLine[] = [];
  let current: Token[] = [];
  for (const t of tokens) {
    if (t.kind === 'newline') {
      if (current.length > 0) {
        lines.push({
          tokens: current,
          indent: current[0]!.column - 1,
          line: current[0]!.line,
          lastLine: current[current.length - 1]!.line,
        });
      }
      current = [];
    } else current.push(t);
  }

  const skipWarning = (first: Token, lastLine: number, what: string) => {
    const span = lastLine > first.line ? ` (lines ${first.line}-${lastLine})` : '';
    warnings.push({
      severity: 'warning',
      line: first.line,
      column: first.column,
      message: `skipped ${what}${span}: WebHVM does not run Python code`,
    });
  };
  const noteSkippedNames = (ts: Token[], skippedAt: number) => {
    for (let k = 0; k < ts.length; k++) {
      const t = ts[k]!;
      if (t.kind !== 'name') continue;
      const next = ts[k + 1];
      const prev = ts[k - 1];
      const startsStatement = !prev || (prev.kind === 'op' && (prev.text === ';' || prev.text === ':')) || prev.line !== t.line;
      if (startsStatement && next && next.kind === 'op' && /^(=|\+=|-=|\*=)$/.test(next.text)) {
        unknown.set(t.text, skippedAt);
        variables.delete(t.text);
      } else if (!(prev && prev.kind === 'op' && prev.text === '.')) referenced.add(t.text);
    }
  };

  for (let n = 0; n < lines.length; n++) {
    const ll = lines[n]!;
    const first = ll.tokens[0]!;
    if (first.kind === 'name' && COMPOUND.has(first.text)) {
      // A compound statement: its header, the indented body, and elif/else clauses with theirs.
      let end = n;
      while (end + 1 < lines.length) {
        const next = lines[end + 1]!;
        const nextFirst = next.tokens[0]!;
        if (next.indent > ll.indent) end++;
        else if (next.indent === ll.indent && nextFirst.kind === 'name' && CONTINUATION.has(nextFirst.text)) end++;
        else break;
      }
      const skipped = lines.slice(n, end + 1);
      for (const s of skipped) noteSkippedNames(s.tokens, ll.line);
      skipWarning(first, skipped[skipped.length - 1]!.lastLine, `Python '${first.text}' statement`);
      n = end;
      continue;
    }
    for (const statement of splitStatements(ll.tokens)) {
      if (statement.length === 0) continue;
      const head = statement[0]!;
      const second = statement[1];
      const isAssignment = head.kind === 'name' && second?.kind === 'op' && second.text === '=';
      if (statement.some((t) => t.broken)) {
        // The lexer already reported the unclosed string or bracket.
        if (isAssignment) malformed.add(head.text);
        continue;
      }
      if (head.kind === 'name' && SIMPLE_PYTHON.has(head.text)) {
        noteSkippedNames(statement, head.line);
        skipWarning(head, statement[statement.length - 1]!.line, `Python '${head.text}' statement`);
        continue;
      }
      if (head.kind === 'name' && second?.kind === 'op' && second.text === '=') {
        const rhs = statement.slice(2);
        if (rhs.length === 0) {
          malformed.add(head.text);
          problems.push({ line: second.line, column: second.column + 1, key: head.text, message: 'expected a value after =' });
          continue;
        }
        const chained = rhs.findIndex((t) => t.kind === 'op' && t.text === '=');
        if (chained >= 0) {
          noteSkippedNames(statement, head.line);
          skipWarning(head, head.line, 'chained assignment');
          continue;
        }
        const ctx: EvalContext = { variables, unknown, referenced, problems, key: head.text };
        const parser = new ExpressionParser(rhs, ctx);
        const value = parser.parseTop();
        if (value === undefined) {
          malformed.add(head.text);
          continue;
        }
        variables.set(head.text, value);
        unknown.delete(head.text);
        assignments.push({ name: head.text, line: head.line, column: head.column, value });
        continue;
      }
      if (head.kind === 'name' && second?.kind === 'op' && /^[-+*/%&|^]=|^(\*\*|\/\/|<<|>>)=$/.test(second.text)) {
        noteSkippedNames(statement, head.line);
        skipWarning(head, statement[statement.length - 1]!.line, `augmented assignment '${second.text}'`);
        continue;
      }
      if (head.kind === 'name' && second?.kind === 'op' && ['.', '(', '['].includes(second.text)) {
        noteSkippedNames(statement, head.line);
        skipWarning(head, statement[statement.length - 1]!.line, 'Python expression statement');
        continue;
      }
      if (head.kind === 'name' && !second) {
        problems.push({ line: head.line, column: head.column + head.text.length, key: head.text, message: `expected '= value' after '${head.text}'` });
        continue;
      }
      if (head.kind === 'name' && second) {
        problems.push({ line: second.line, column: second.column, key: head.text, message: `expected '=' after '${head.text}', got '${second.text}'` });
        continue;
      }
      problems.push({ line: head.line, column: head.column, message: `expected a setting (key = value), got '${head.text}'` });
    }
  }
  return { assignments, referenced, malformed, problems, warnings };
}

function splitStatements(tokens: Token[]): Token[][] {
  const out: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'op' && '([{'.includes(t.text)) depth++;
    if (t.kind === 'op' && ')]}'.includes(t.text)) depth = Math.max(0, depth - 1);
    if (depth === 0 && t.kind === 'op' && t.text === ';') out.push([]);
    else out[out.length - 1]!.push(t);
  }
  return out;
}

interface EvalContext {
  variables: Map<string, Value>;
  unknown: Map<string, number>;
  referenced: Set<string>;
  problems: ConfigProblem[];
  key: string;
}

const pos = (t: Token): SourcePosition => ({ line: t.line, column: t.column });

/** Recursive descent over one right-hand side. */
class ExpressionParser {
  private at = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly ctx: EvalContext,
  ) {}

  /** The whole right-hand side, or undefined after reporting a syntax problem. */
  parseTop(): Value | undefined {
    const value = this.expression();
    if (value === undefined) return undefined;
    const rest = this.tokens[this.at];
    if (rest === undefined) return value;
    if (rest.kind === 'name' && EXPRESSION_KEYWORDS.has(rest.text)) {
      this.noteRest();
      return { kind: 'unknown', reason: `Python '${rest.text}' expression`, pos: value.pos };
    }
    if (rest.kind === 'op' && rest.text === ',') {
      // `cpus = 0, 1` is a Python tuple: not something any setting takes.
      this.noteRest();
      return { kind: 'unknown', reason: 'a tuple (values separated by commas outside brackets)', pos: value.pos };
    }
    this.ctx.problems.push({
      line: rest.line,
      column: rest.column,
      key: this.ctx.key,
      message: `unexpected '${rest.text}' after the value: expected the end of the line (a string needs quotes)`,
    });
    return undefined;
  }

  private noteRest(): void {
    for (const t of this.tokens.slice(this.at)) if (t.kind === 'name') this.ctx.referenced.add(t.text);
    this.at = this.tokens.length;
  }

  private peek(text: string): boolean {
    const t = this.tokens[this.at];
    return t !== undefined && t.kind === 'op' && t.text === text;
  }

  private expression(): Value | undefined {
    let left = this.unary();
    while (left !== undefined && (this.peek('+') || this.peek('-') || this.peek('*') || this.peek('/') || this.peek('%'))) {
      const op = this.tokens[this.at++]!;
      const right = this.unary();
      if (right === undefined) return undefined;
      left = binary(op.text, left, right);
    }
    return left;
  }

  private unary(): Value | undefined {
    const t = this.tokens[this.at];
    if (t && t.kind === 'op' && (t.text === '-' || t.text === '+')) {
      this.at++;
      const v = this.unary();
      if (v === undefined) return undefined;
      if (v.kind === 'int' || v.kind === 'float') return { ...v, value: t.text === '-' ? -v.value : v.value, pos: pos(t) };
      if (v.kind === 'unknown') return v;
      return { kind: 'unknown', reason: `'${t.text}' applied to ${describe(v)}`, pos: pos(t) };
    }
    return this.postfix();
  }

  private postfix(): Value | undefined {
    let v = this.atom();
    while (v !== undefined && (this.peek('(') || this.peek('.') || this.peek('['))) {
      const t = this.tokens[this.at]!;
      // The first thing that could not be evaluated is the reason given.
      const reason = t.text === '.' ? 'attribute access (Python)' : t.text === '(' ? 'a function call (Python)' : 'indexing (Python)';
      if (t.text === '.') this.at += 2;
      else this.skipBalanced();
      v = v.kind === 'unknown' ? v : { kind: 'unknown', reason, pos: v.pos };
    }
    return v;
  }

  private skipBalanced(): void {
    let depth = 0;
    do {
      const t = this.tokens[this.at++]!;
      if (t.kind === 'name') this.ctx.referenced.add(t.text);
      if (t.kind === 'op' && '([{'.includes(t.text)) depth++;
      if (t.kind === 'op' && ')]}'.includes(t.text)) depth--;
    } while (depth > 0 && this.at < this.tokens.length);
  }

  private atom(): Value | undefined {
    const t = this.tokens[this.at];
    if (t === undefined) {
      const last = this.tokens[this.tokens.length - 1]!;
      this.ctx.problems.push({ line: last.line, column: last.column + last.text.length, key: this.ctx.key, message: `expected a value after '${last.text}'` });
      return undefined;
    }
    this.at++;
    if (t.kind === 'number') {
      return t.float ? { kind: 'float', value: t.value as number, pos: pos(t) } : { kind: 'int', value: t.value as number, pos: pos(t) };
    }
    if (t.kind === 'string') {
      // Adjacent literals concatenate, as in Python: 'a' 'b' is 'ab'.
      let value = t.value as string;
      let bodyColumn = t.bodyColumn;
      while (this.tokens[this.at]?.kind === 'string') {
        value += this.tokens[this.at++]!.value as string;
        bodyColumn = undefined;
      }
      const s: Value = { kind: 'string', value, pos: pos(t) };
      if (bodyColumn !== undefined) s.bodyColumn = bodyColumn;
      return s;
    }
    if (t.kind === 'name') {
      if (t.text === 'True') return { kind: 'int', value: 1, pos: pos(t) };
      if (t.text === 'False') return { kind: 'int', value: 0, pos: pos(t) };
      if (t.text === 'None') return { kind: 'none', pos: pos(t) };
      this.ctx.referenced.add(t.text);
      const known = this.ctx.variables.get(t.text);
      if (known !== undefined && known.kind === 'unknown') {
        return { kind: 'unknown', reason: `'${t.text}' was not evaluated (line ${known.pos.line}: ${known.reason})`, pos: pos(t) };
      }
      if (known !== undefined) return { ...known, pos: pos(t) } as Value;
      const skippedAt = this.ctx.unknown.get(t.text);
      if (skippedAt !== undefined) {
        return { kind: 'unknown', reason: `'${t.text}' is set by the skipped statement at line ${skippedAt}`, pos: pos(t) };
      }
      return { kind: 'bare', name: t.text, pos: pos(t) };
    }
    if (t.kind === 'op' && t.text === '[') return this.sequence(t, ']');
    if (t.kind === 'op' && t.text === '(') {
      if (this.peek(')')) {
        this.at++;
        return { kind: 'list', items: [], pos: pos(t) };
      }
      const inner = this.expression();
      if (inner === undefined) return undefined;
      if (this.peek(')')) {
        this.at++;
        return inner;
      }
      if (this.peek(',')) {
        // A tuple: accepted where a list is, as Python would.
        this.at++;
        const rest = this.sequence(t, ')');
        return rest && rest.kind === 'list' ? { ...rest, items: [inner, ...rest.items] } : rest;
      }
      return this.expected(')');
    }
    if (t.kind === 'op' && t.text === '{') {
      this.at--;
      this.skipBalanced();
      return { kind: 'unknown', reason: 'a Python dictionary', pos: pos(t) };
    }
    this.ctx.problems.push({ line: t.line, column: t.column, key: this.ctx.key, message: `expected a value, got '${t.text}'` });
    return undefined;
  }

  /** Items up to `close`; commas between them, a trailing comma allowed. */
  private sequence(open: Token, close: string): Value | undefined {
    const items: Value[] = [];
    while (!this.peek(close)) {
      if (this.at >= this.tokens.length) return this.expected(close, open);
      const item = this.expression();
      if (item === undefined) return undefined;
      items.push(item);
      if (this.peek(',')) this.at++;
      else if (!this.peek(close)) return this.expected(`,' or '${close}`);
    }
    this.at++;
    return { kind: 'list', items, pos: pos(open) };
  }

  private expected(what: string, open?: Token): undefined {
    const t = this.tokens[this.at] ?? this.tokens[this.tokens.length - 1]!;
    const got = this.tokens[this.at] ? `got '${t.text}'` : 'got the end of the line';
    this.ctx.problems.push({
      line: t.line,
      column: t.column,
      key: this.ctx.key,
      message: `expected '${what}'${open ? ` to close '${open.text}' at ${open.line}:${open.column}` : ''}, ${got}`,
    });
    return undefined;
  }
}

function binary(op: string, a: Value, b: Value): Value {
  const at = a.pos;
  if (a.kind === 'unknown') return a;
  if (b.kind === 'unknown') return b;
  if (a.kind === 'bare' || b.kind === 'bare') {
    const bare = (a.kind === 'bare' ? a : b) as { name: string };
    return { kind: 'unknown', reason: `'${bare.name}' is not defined`, pos: at };
  }
  if (op === '+' && a.kind === 'string' && b.kind === 'string') return { kind: 'string', value: a.value + b.value, pos: at };
  if (op === '+' && a.kind === 'list' && b.kind === 'list') return { kind: 'list', items: [...a.items, ...b.items], pos: at };
  if (a.kind === 'int' && b.kind === 'int' && (op === '+' || op === '-' || op === '*')) {
    const value = op === '+' ? a.value + b.value : op === '-' ? a.value - b.value : a.value * b.value;
    return { kind: 'int', value, pos: at };
  }
  return { kind: 'unknown', reason: `'${op}' between ${describe(a)} and ${describe(b)}`, pos: at };
}

/** How a value is named in messages: `'lots'`, `512`, `a list`. */
export function describe(v: Value): string {
  switch (v.kind) {
    case 'int':
    case 'float':
      return String(v.value);
    case 'string':
      return `'${v.value}'`;
    case 'bare':
      return `'${v.name}'`;
    case 'list':
      return 'a list';
    case 'none':
      return 'None';
    case 'unknown':
      return `an expression WebHVM does not evaluate (${v.reason})`;
  }
}
