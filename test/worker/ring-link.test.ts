import { describe, expect, it } from 'vitest';
import { createIoRings, InputRingWriter, type InputSink } from '../../src/worker/io-rings.ts';
import { RingLink } from '../../src/worker/ring-link.ts';

const noInput: InputSink = { keys() {}, pointerAbsolute() {}, pointerRelative() {}, serialInput() {} };

describe('RingLink: the worker end of the page rings', () => {
  it('writes serial output to the port ring and holds back what does not fit until the page reads', () => {
    const page = createIoRings();
    const link = new RingLink(page.buffer, noInput);
    const capacity = page.serial[0].capacity;
    const big = new Uint8Array(capacity + 100).map((_, i) => i & 0xff);
    link.sendSerial(0, big);
    expect(page.serial[0].used).toBe(capacity);
    expect(link.pendingSerial(0)).toBe(100);
    const first = page.serial[0].read();
    link.sendSerial(0, new Uint8Array(0));
    const rest = page.serial[0].read();
    expect(link.pendingSerial(0)).toBe(0);
    expect(page.serial[0].dropped).toBe(0);
    expect(Buffer.concat([first, rest]).equals(big)).toBe(true);
    expect(page.serial[1].used).toBe(0);
    link.stop();
  });

  it('drops the oldest backlog beyond its limit and counts it', () => {
    const page = createIoRings();
    const link = new RingLink(page.buffer, noInput);
    const chunk = new Uint8Array(256 * 1024);
    for (let i = 0; i < 8; i++) link.sendSerial(1, chunk);
    expect(link.pendingSerial(1)).toBeLessThanOrEqual(1 << 20);
    expect(page.serial[1].dropped).toBe(8 * chunk.length - page.serial[1].used - link.pendingSerial(1));
    expect(page.serial[1].dropped).toBeGreaterThan(0);
    link.stop();
  });

  it('hands input to the sink when the page publishes it, with no run loop turning', async () => {
    const page = createIoRings();
    const seen: string[] = [];
    const link = new RingLink(page.buffer, { ...noInput, keys: (events) => seen.push(...events.map((e) => `${e.code}:${e.down}`)) });
    new InputRingWriter(page.input).keys([{ code: 'KeyQ', down: true }]);
    const end = Date.now() + 500;
    while (seen.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual(['KeyQ:true']);
    link.stop();
  });
});
