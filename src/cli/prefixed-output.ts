/**
 * The serial output of several VMs on one stream: every line starts with the VM's name
 * (`name| `). Whole lines go out as they complete; an unfinished line (a shell prompt, or text
 * still arriving at the UART's pace) waits until it completes or its VM has printed nothing for
 * `partialDelayMs`, so lines of two VMs that print at once do not break each other up. With a
 * single VM the bytes pass unchanged.
 */
export class PrefixedOutput {
  /** Unfinished line text not yet written, per VM, and when the VM last added to it. */
  private readonly pending = new Map<string, { text: string; at: number }>();
  /** The VM whose line was written unfinished and may continue, if any. */
  private open: string | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly write: (text: string) => void,
    private readonly prefixed: boolean,
    private readonly partialDelayMs = 200,
    /** Host milliseconds (the runner's own output pacing, not guest time). */
    private readonly now: () => number = Date.now,
  ) {}

  /** Text `text` from the VM named `name`. */
  print(name: string, text: string): void {
    if (!this.prefixed) return this.write(text);
    let line = (this.pending.get(name)?.text ?? '') + text;
    let out = '';
    for (let nl = line.indexOf('\n'); nl >= 0; nl = line.indexOf('\n')) {
      out += this.lineStart(name) + line.slice(0, nl + 1);
      this.open = undefined;
      line = line.slice(nl + 1);
    }
    if (out) this.write(out);
    if (line) {
      this.pending.set(name, { text: line, at: this.now() });
      this.timer ??= setTimeout(() => this.flushQuiet(), this.partialDelayMs);
    } else {
      this.pending.delete(name);
    }
  }

  /** Writes every unfinished line as it is. */
  flushPartial(): void {
    this.flushWhere(() => true);
  }

  /** Writes the unfinished lines of VMs that went quiet (they may be waiting for input). */
  flushQuiet(): void {
    const now = this.now();
    this.flushWhere((at) => now - at >= this.partialDelayMs);
    if (this.pending.size) {
      const oldest = Math.min(...[...this.pending.values()].map((p) => p.at));
      this.timer = setTimeout(() => this.flushQuiet(), Math.max(1, oldest + this.partialDelayMs - now));
    }
  }

  private flushWhere(due: (at: number) => boolean): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const [name, { text, at }] of this.pending) {
      if (!due(at)) continue;
      this.write(this.lineStart(name) + text);
      this.open = name;
      this.pending.delete(name);
    }
  }

  /** Everything out and the line ended, before text that is not a VM's (the runner's own). */
  endLine(): void {
    this.flushPartial();
    if (this.open !== undefined) this.write('\n');
    this.open = undefined;
  }

  /** The prefix a new piece of `name`'s text needs where the stream stands now. */
  private lineStart(name: string): string {
    if (this.open === name) return '';
    const start = this.open === undefined ? '' : '\n';
    this.open = undefined;
    return `${start}${name}| `;
  }
}
