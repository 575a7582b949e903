import { describe, expect, it } from 'vitest';
import { PrefixedOutput } from '../../src/cli/prefixed-output.ts';

function collect(prefixed: boolean, delayMs = 50) {
  let text = '';
  return { out: new PrefixedOutput((t) => (text += t), prefixed, delayMs), text: () => text };
}

describe('PrefixedOutput', () => {
  it('puts the VM name in front of every line, keeping lines whole while two VMs print at once', () => {
    const { out, text } = collect(true);
    out.print('a', 'one\r\ntw');
    out.print('b', 'thr');
    out.print('a', 'o\n');
    out.print('b', 'ee\n');
    expect(text()).toBe('a| one\r\na| two\nb| three\n');
    out.endLine();
  });

  it('shows an unfinished line (a prompt) after a short while, and continues it when it is still open', async () => {
    const { out, text } = collect(true, 5);
    out.print('a', '/ # ');
    expect(text()).toBe('');
    await new Promise((r) => setTimeout(r, 20));
    expect(text()).toBe('a| / # ');
    out.print('a', 'ls\n');
    out.print('a', '/ # ');
    out.print('b', 'x\n');
    out.endLine();
    out.endLine();
    expect(text()).toBe('a| / # ls\nb| x\na| / # \n');
  });

  it('holds an unfinished line while its VM keeps adding to it', () => {
    let now = 0;
    let text = '';
    const out = new PrefixedOutput((t) => (text += t), true, 100, () => now);
    out.print('a', 'WE');
    out.print('b', 'y');
    for (let i = 0; i < 4; i++) {
      now += 60;
      out.print('a', 'x');
      out.flushQuiet();
    }
    expect(text).toBe('b| y'); // b went quiet; a kept printing
    now += 100;
    out.flushQuiet();
    out.print('a', '\n');
    out.endLine();
    expect(text).toBe('b| y\na| WExxxx\n');
  });

  it('passes a single VM through unchanged', () => {
    const { out, text } = collect(false);
    out.print('a', 'one\ntwo');
    out.endLine();
    expect(text()).toBe('one\ntwo');
  });
});
