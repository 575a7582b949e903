import { describe, expect, it } from 'vitest';
import { ConfigError, formatDiagnostic } from '../../src/config/diagnostics.ts';

describe('formatDiagnostic', () => {
  it('formats problems and warnings with file, line and column', () => {
    expect(formatDiagnostic('guest.cfg', { line: 7, column: 10, key: 'memory', message: "expected x, got 'lots'" })).toBe(
      "guest.cfg:7:10: memory: expected x, got 'lots'",
    );
    expect(formatDiagnostic('g.cfg', { line: 1, column: 1, message: 'm', severity: 'note' })).toBe('g.cfg:1:1: note: m');
  });
});

describe('ConfigError', () => {
  it('sorts problems by position and puts one per line in the message', () => {
    const e = new ConfigError('g.cfg', [
      { line: 3, column: 1, message: 'b' },
      { line: 1, column: 5, message: 'a' },
    ]);
    expect(e.name).toBe('ConfigError');
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe('g.cfg:1:5: a\ng.cfg:3:1: b');
    expect(e.problems.map((p) => p.message)).toEqual(['a', 'b']);
  });
});
