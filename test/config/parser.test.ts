import { describe, expect, it } from 'vitest';
import { parseStatements } from '../../src/config/parser.ts';

const value = (text: string, name: string) => parseStatements(text).assignments.filter((a) => a.name === name).at(-1)?.value;

describe('parseStatements', () => {
  it('evaluates literals, lists and None/True/False', () => {
    const p = parseStatements("a = 512\nb = 'x'\nc = [ 'p', 'q', ]\nd = True\ne = None\nf = -3600\n");
    expect(p.problems).toEqual([]);
    expect(p.assignments.map((a) => [a.name, a.value.kind])).toEqual([
      ['a', 'int'], ['b', 'string'], ['c', 'list'], ['d', 'int'], ['e', 'none'], ['f', 'int'],
    ]);
    expect(value('f = -3600', 'f')).toMatchObject({ kind: 'int', value: -3600 });
  });

  it('concatenates strings, including variables defined earlier', () => {
    const v = value("dir = '/images'\nname = 'vm'\ndisk = [ 'file:' + dir + '/' + name + '.img,hda,w' ]\n", 'disk');
    expect(v).toMatchObject({ kind: 'list', items: [{ kind: 'string', value: 'file:/images/vm.img,hda,w' }] });
    expect(value("x = 'a' 'b'", 'x')).toMatchObject({ value: 'ab' });
  });

  it('does integer arithmetic with + - *', () => {
    expect(value('m = 256 * 2 + 1 - 1', 'm')).toMatchObject({ kind: 'int', value: 512 });
  });

  it('accepts several statements on a line separated by semicolons', () => {
    expect(parseStatements("name = 'a'; memory = 1").assignments.map((a) => a.name)).toEqual(['name', 'memory']);
  });

  it('skips the xm Python preamble with a warning naming each statement', () => {
    const text = [
      'import os, re',
      'arch = os.uname()[4]',
      "if re.search('64', arch):",
      "    arch_libdir = 'lib64'",
      'else:',
      "    arch_libdir = 'lib'",
      "device_model = '/usr/' + arch_libdir + '/xen/bin/qemu-dm'",
      "kernel = '/usr/lib/xen/boot/hvmloader'",
    ].join('\n');
    const p = parseStatements(text);
    expect(p.problems).toEqual([]);
    expect(p.warnings.map((w) => [w.line, w.message])).toEqual([
      [1, "skipped Python 'import' statement: WebHVM does not run Python code"],
      [3, "skipped Python 'if' statement (lines 3-6): WebHVM does not run Python code"],
    ]);
    expect(value(text, 'arch')).toMatchObject({ kind: 'unknown', reason: 'attribute access (Python)' });
    expect(value(text, 'device_model')).toMatchObject({ kind: 'unknown', reason: "'arch_libdir' is set by the skipped statement at line 3" });
    expect(value(text, 'kernel')).toMatchObject({ kind: 'string', value: '/usr/lib/xen/boot/hvmloader' });
    expect(p.referenced.has('arch')).toBe(true);
  });

  it('ends a skipped block at the first line back at its indentation', () => {
    const p = parseStatements("if x:\n  memory = 1\n\n  # comment\n  vcpus = 2\nmemory = 3\n");
    expect(p.assignments.map((a) => a.name)).toEqual(['memory']);
    expect(value("if x:\n  memory = 1\nmemory = 3\n", 'memory')).toMatchObject({ value: 3 });
  });

  it('marks names set on a one-line if as unknown', () => {
    expect(value("if 1: lib = 'x'\ndm = lib\n", 'dm')).toMatchObject({ kind: 'unknown' });
  });

  it('skips other Python statements with a warning', () => {
    const p = parseStatements("print 'hi'\nos.system('x')\nx += 1\nfor i in range(3):\n  pass\n");
    expect(p.problems).toEqual([]);
    expect(p.warnings.map((w) => w.line)).toEqual([1, 2, 3, 4]);
  });

  it('leaves function calls, attributes and indexing unevaluated', () => {
    expect(value('a = f(1)', 'a')).toMatchObject({ kind: 'unknown', reason: 'a function call (Python)' });
    expect(value("a = 'x'.upper()", 'a')).toMatchObject({ kind: 'unknown' });
    expect(value("a = b if c else 'd'", 'a')).toMatchObject({ kind: 'unknown' });
  });

  it('keeps an undefined bare word for the validator to refuse', () => {
    expect(value('memory = lots', 'memory')).toMatchObject({ kind: 'bare', name: 'lots', pos: { line: 1, column: 10 } });
    expect(value("dm = '/usr/' + nowhere", 'dm')).toMatchObject({ kind: 'unknown', reason: "'nowhere' is not defined" });
  });

  it('reports malformed statements with line and column', () => {
    expect(parseStatements('memory 512').problems).toEqual([
      { line: 1, column: 8, key: 'memory', message: "expected '=' after 'memory', got '512'" },
    ]);
    expect(parseStatements('memory =').problems[0]).toMatchObject({ line: 1, column: 9, message: 'expected a value after =' });
    expect(parseStatements('memory = 512 MB').problems[0]).toMatchObject({ line: 1, column: 14 });
    expect(parseStatements("disk = [ 'a' 'b' 'c' , , ]").problems[0]).toMatchObject({ message: "expected a value, got ','" });
    expect(parseStatements("vif = [ 'a' 5 ]").problems[0]).toMatchObject({ column: 13, message: "expected ',' or ']', got '5'" });
    expect(parseStatements('= 5').problems[0]).toMatchObject({ line: 1, column: 1 });
  });

  it('reports every problem of a file, not only the first', () => {
    const p = parseStatements("name = 'x\nmemory 5\ndisk = [\nvcpus = 1\n");
    expect(p.problems.map((x) => x.line).sort()).toEqual([1, 2, 3]);
    expect(p.assignments.map((a) => a.name)).toEqual(['vcpus']);
  });
});
