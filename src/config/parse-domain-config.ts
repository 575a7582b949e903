/**
 * Entry point: the text of an xl/xm HVM domain configuration file in, a validated DomainConfig
 * and its warnings out, or a ConfigError listing every problem with line and column.
 * Runs anywhere (browser, worker, Node): no I/O here; see media.ts for image paths.
 */
import { parseStatements } from './parser.ts';
import { type ParseResult, validate } from './validate.ts';

export interface ParseOptions {
  /** Name used in messages (`guest.cfg:7:10: ...`); default `domain.cfg`. */
  fileName?: string;
}

export function parseDomainConfig(text: string, options: ParseOptions = {}): ParseResult {
  const fileName = options.fileName ?? 'domain.cfg';
  // A byte-order mark from a Windows editor is not part of the first key.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return validate(parseStatements(body), fileName);
}
