import { describe, expect, it } from 'vitest';
import { tokenize } from '../../src/config/lexer.ts';

const kinds = (text: string) => tokenize(text).tokens.map((t) => (t.kind === 'newline' ? '\\n' : t.text));

describe('tokenize', () => {
  it('splits key = value lines and drops comments', () => {
    expect(kinds("memory = 512 # MiB\n# a comment\nname='x'\n")).toEqual(['memory', '=', '512', '\\n', 'name', '=', "'x'", '\\n']);
  });

  it('reads decimal, hexadecimal, octal and float numbers', () => {
    const t = tokenize('a = 512\nb = 0x20\nc = 010\nd = 1.5\ne = 0o17\n').tokens.filter((x) => x.kind === 'number');
    expect(t.map((x) => x.value)).toEqual([512, 32, 8, 1.5, 15]);
    expect(t.map((x) => Boolean(x.float))).toEqual([false, false, false, true, false]);
  });

  it('refuses 8 and 9 in an octal number', () => {
    expect(tokenize('memory = 0128\n').problems[0]).toMatchObject({ line: 1, column: 10 });
  });

  it('decodes backslash escapes in single and double quotes', () => {
    const s = tokenize(String.raw`a = 'it\'s\t\x41\101\\' + "q\"\n"`).tokens.filter((x) => x.kind === 'string');
    expect(s.map((x) => x.value)).toEqual(["it's\tAA\\", 'q"\n']);
    expect(s[0]!.bodyColumn).toBeUndefined();
  });

  it('keeps unknown escapes and raw strings as written', () => {
    const s = tokenize(String.raw`a = 'C:\images\q' + r'\n'`).tokens.filter((x) => x.kind === 'string');
    expect(s.map((x) => x.value)).toEqual([String.raw`C:\images\q`, String.raw`\n`]);
  });

  it('records where the body of an escape-free string starts', () => {
    const s = tokenize("disk = [ 'file:/x,hda,w' ]").tokens.find((x) => x.kind === 'string')!;
    expect(s.column).toBe(10);
    expect(s.bodyColumn).toBe(11);
  });

  it('continues a list over several lines and accepts a trailing comma', () => {
    expect(kinds("disk = [ 'a',\n  'b',\n]\nx = 1")).toEqual(['disk', '=', '[', "'a'", ',', "'b'", ',', ']', '\\n', 'x', '=', '1', '\\n']);
  });

  it('joins lines ending in a backslash', () => {
    expect(kinds("a = 'x' + \\\n 'y'\n")).toEqual(['a', '=', "'x'", '+', "'y'", '\\n']);
  });

  it('reads triple-quoted strings across lines', () => {
    const s = tokenize("extra = '''a\nb'''\nx = 1").tokens.find((x) => x.kind === 'string')!;
    expect(s.value).toBe('a\nb');
  });

  it('lets names contain hyphens (device-model)', () => {
    expect(kinds("device-model = 'q'")).toEqual(['device-model', '=', "'q'", '\\n']);
    expect(kinds('x = -1')).toEqual(['x', '=', '-', '1', '\\n']);
  });

  it('reports an unterminated string at its opening quote and goes on with the next line', () => {
    const r = tokenize("name = 'winxp\nmemory = 512\n");
    expect(r.problems).toEqual([{ line: 1, column: 8, message: "unterminated string: expected a closing ' before the end of the line" }]);
    expect(r.tokens.filter((t) => t.kind === 'name').map((t) => t.text)).toEqual(['name', 'memory']);
  });

  it('reports an unclosed bracket at its opening and recovers at the next setting', () => {
    const r = tokenize("disk = [ 'a',\n  'b'\nmemory = 512\n");
    expect(r.problems).toEqual([{ line: 1, column: 8, message: "'[' is never closed: expected ']'" }]);
    const memory = r.tokens.find((t) => t.text === 'memory')!;
    expect(memory.line).toBe(3);
    expect(r.tokens[r.tokens.indexOf(memory) - 1]!.kind).toBe('newline');
  });

  it('reports an unclosed bracket at the end of the file', () => {
    expect(tokenize("vif = [ 'bridge=xenbr0'").problems[0]).toMatchObject({ line: 1, column: 7 });
  });

  it('reports a closing bracket that matches nothing', () => {
    expect(tokenize('a = 1 ]').problems[0]!.message).toBe("']' closes nothing");
    expect(tokenize('a = [1)').problems[0]!.message).toMatch(/does not match '\['/);
  });

  it('reports characters that have no place in the file', () => {
    expect(tokenize('a = $').problems[0]).toEqual({ line: 1, column: 5, message: "unexpected character '$'" });
  });
});
