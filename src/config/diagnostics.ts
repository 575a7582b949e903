/**
 * Problems and warnings found in a domain configuration file, each tied to a line and column
 * (1-based; a column counts UTF-16 code units, a tab counts as one).
 */

/** A place in the configuration file. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** Something wrong with the file: the VM cannot be built from it. */
export interface ConfigProblem extends SourcePosition {
  /** The setting concerned (`memory`, `disk`), when there is one. */
  key?: string;
  /** What was expected and what was found. */
  message: string;
}

/**
 * Something the user should know that does not stop the boot. `warning`: the file asks for
 * something WebHVM does differently or cannot do, or code was skipped. `note`: a Xen setting
 * that has no meaning here and is ignored.
 */
export interface ConfigWarning extends ConfigProblem {
  severity: 'warning' | 'note';
}

/** `guest.cfg:7:10: memory: expected ..., got 'lots'` (warnings carry `warning:`/`note:` after the position). */
export function formatDiagnostic(fileName: string, d: ConfigProblem | ConfigWarning): string {
  const severity = 'severity' in d ? `${d.severity}: ` : '';
  const key = d.key ? `${d.key}: ` : '';
  return `${fileName}:${d.line}:${d.column}: ${severity}${key}${d.message}`;
}

/**
 * The file was refused. `problems` lists every problem found (not only the first), in file
 * order; the message is one formatted line per problem. `warnings` holds what had been found
 * besides, so a user interface can show both.
 */
export class ConfigError extends Error {
  readonly fileName: string;
  readonly problems: readonly ConfigProblem[];
  readonly warnings: readonly ConfigWarning[];

  constructor(fileName: string, problems: ConfigProblem[], warnings: ConfigWarning[] = []) {
    const sorted = [...problems].sort(byPosition);
    super(sorted.map((p) => formatDiagnostic(fileName, p)).join('\n'));
    this.name = 'ConfigError';
    this.fileName = fileName;
    this.problems = sorted;
    this.warnings = [...warnings].sort(byPosition);
  }
}

export function byPosition(a: SourcePosition, b: SourcePosition): number {
  return a.line - b.line || a.column - b.column;
}
