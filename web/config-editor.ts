/**
 * The configuration editor: the domain-configuration text, preset buttons, and validation as
 * the user types (the same parser the worker uses), each problem shown with its line and
 * column; clicking a message puts the caret there.
 */
import { parseDomainConfig } from '../src/config/parse-domain-config.ts';
import { ConfigError, formatDiagnostic, type ConfigProblem, type ConfigWarning } from '../src/config/diagnostics.ts';

export class ConfigEditor {
  constructor(
    private readonly textarea: HTMLTextAreaElement,
    private readonly messages: HTMLElement,
    private readonly fileName = () => 'domain.cfg',
  ) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    textarea.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.validate(), 250);
    });
  }

  get text(): string {
    return this.textarea.value;
  }

  set text(value: string) {
    this.textarea.value = value;
    this.validate();
  }

  /** Parse the text and show what is wrong; true when it can be booted. */
  validate(): boolean {
    try {
      const result = parseDomainConfig(this.textarea.value, { fileName: this.fileName() });
      this.show([], result.warnings);
      return true;
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      this.show(e.problems, e.warnings);
      return false;
    }
  }

  /** Show problems from elsewhere (a missing image, reported by the worker). */
  show(problems: readonly ConfigProblem[], warnings: readonly ConfigWarning[]): void {
    this.messages.replaceChildren();
    const entries: [ConfigProblem | ConfigWarning, string][] = [
      ...problems.map((p) => [p, 'error'] as [ConfigProblem, string]),
      ...warnings.map((w) => [w, w.severity] as [ConfigWarning, string]),
    ];
    for (const [d, kind] of entries) {
      const li = document.createElement('li');
      li.className = `diagnostic ${kind}`;
      li.textContent = d.line > 0 ? formatDiagnostic(this.fileName(), d) : d.message;
      if (kind === 'error' && !('severity' in d)) li.textContent = li.textContent.replace(/^([^:]+:\d+:\d+: )/, '$1error: ');
      if (d.line > 0) li.addEventListener('click', () => this.caretTo(d.line, d.column));
      this.messages.append(li);
    }
  }

  private caretTo(line: number, column: number): void {
    const lines = this.textarea.value.split('\n');
    let offset = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    offset += Math.max(0, column - 1);
    this.textarea.focus();
    this.textarea.setSelectionRange(offset, offset);
  }
}
