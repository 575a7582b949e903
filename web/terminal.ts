/**
 * COM1 in an xterm.js terminal: what the guest sends is written to it, what the user types or
 * pastes goes to the guest's UART. Ctrl-Shift-C copies the selection (Ctrl-C belongs to the
 * guest); pasting uses the browser's paste. The text seen so far is kept for automation.
 */
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';

const KEEP_CHARS = 4_000_000;

export class SerialTerminal {
  readonly terminal: Terminal;
  private text = '';
  onInput: (bytes: Uint8Array) => void = () => {};

  constructor(element: HTMLElement) {
    this.terminal = new Terminal({ convertEol: false, scrollback: 5000, fontSize: 13, cursorBlink: true });
    this.terminal.open(element);
    const encoder = new TextEncoder();
    this.terminal.onData((data) => this.onInput(encoder.encode(data)));
    this.terminal.attachCustomKeyEventHandler((e) => {
      if (e.type === 'keydown' && e.ctrlKey && e.shiftKey && e.code === 'KeyC') {
        const selection = this.terminal.getSelection();
        if (selection) void navigator.clipboard?.writeText(selection).catch(() => {});
        return false;
      }
      // Ctrl-Shift-V: let the browser's paste event deliver the text.
      if (e.ctrlKey && e.shiftKey && e.code === 'KeyV') return false;
      return true;
    });
  }

  /** Guest output: raw bytes (Latin-1 as the guest's console sends them). */
  write(bytes: Uint8Array): void {
    this.terminal.write(bytes);
    let s = '';
    for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
    this.text += s;
    if (this.text.length > KEEP_CHARS) this.text = this.text.slice(-KEEP_CHARS / 2);
  }

  /** A line from the page itself (not the guest), dimmed. */
  note(message: string): void {
    this.terminal.write(`\r\n\x1b[2m[webhvm] ${message}\x1b[0m\r\n`);
  }

  serialText(): string {
    return this.text;
  }
}
