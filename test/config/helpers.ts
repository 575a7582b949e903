import { ConfigError, formatDiagnostic } from '../../src/config/diagnostics.ts';
import { parseDomainConfig } from '../../src/config/parse-domain-config.ts';
import type { ParseResult } from '../../src/config/validate.ts';

/** Line 1 names the guest and makes it HVM; the lines given start at line 2. */
export function cfg(...lines: string[]): string {
  return ["name = 't'; builder = 'hvm'", ...lines].join('\n') + '\n';
}

export function parse(text: string): ParseResult {
  return parseDomainConfig(text, { fileName: 'guest.cfg' });
}

/** The formatted problems of a file that must be refused. */
export function problemsOf(text: string): string[] {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => formatDiagnostic('guest.cfg', p));
    throw e;
  }
  throw new Error('expected a ConfigError, but the file was accepted');
}

/** The formatted warnings and notes of a file that must be accepted. */
export function warningsOf(text: string): string[] {
  return parse(text).warnings.map((w) => formatDiagnostic('guest.cfg', w));
}
