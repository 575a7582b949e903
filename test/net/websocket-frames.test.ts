import { describe, expect, it } from 'vitest';
import {
  closePayload, CLOSE_INVALID_DATA, CLOSE_NO_STATUS, CLOSE_PROTOCOL_ERROR, CLOSE_TOO_BIG, encodeFrame, FrameReader, OPCODE_BINARY, OPCODE_CLOSE,
  OPCODE_CONTINUATION, OPCODE_PING, OPCODE_TEXT,
} from '../../src/net/websocket-frames.ts';

const MASK = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('WebSocket frames', () => {
  it('encodes the RFC 6455 examples: an unmasked and a masked "Hello"', () => {
    const hello = new TextEncoder().encode('Hello');
    // Section 5.7 of the RFC gives both byte sequences.
    expect(Array.from(encodeFrame({ opcode: OPCODE_TEXT, payload: hello }))).toEqual([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    expect(Array.from(encodeFrame({ opcode: OPCODE_TEXT, payload: hello, mask: MASK }))).toEqual([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
  });

  it('uses the 16-bit and 64-bit length forms and reads them back', () => {
    const medium = encodeFrame({ opcode: OPCODE_BINARY, payload: bytes(300) });
    expect(Array.from(medium.subarray(0, 4))).toEqual([0x82, 126, 0x01, 0x2c]);
    const large = encodeFrame({ opcode: OPCODE_BINARY, payload: bytes(70000), mask: MASK });
    expect(Array.from(large.subarray(0, 10))).toEqual([0x82, 0xff, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70]);
    const reader = new FrameReader({ expectMasked: true });
    const [event] = reader.push(large);
    expect(event).toEqual({ type: 'binary', data: bytes(70000) });
  });

  it('reassembles a fragmented message split at arbitrary byte boundaries, with a ping in between', () => {
    const wire = new Uint8Array([
      ...encodeFrame({ opcode: OPCODE_BINARY, payload: bytes(10, 1), fin: false, mask: MASK }),
      ...encodeFrame({ opcode: OPCODE_PING, payload: new Uint8Array([9]), mask: MASK }),
      ...encodeFrame({ opcode: OPCODE_CONTINUATION, payload: bytes(200, 2), fin: false, mask: MASK }),
      ...encodeFrame({ opcode: OPCODE_CONTINUATION, payload: bytes(5, 3), mask: MASK }),
    ]);
    const reader = new FrameReader({ expectMasked: true });
    const events = [];
    for (let i = 0; i < wire.length; i += 7) events.push(...reader.push(wire.subarray(i, i + 7)));
    expect(events).toEqual([
      { type: 'ping', data: new Uint8Array([9]) },
      { type: 'binary', data: new Uint8Array([...bytes(10, 1), ...bytes(200, 2), ...bytes(5, 3)]) },
    ]);
  });

  it('reads close frames with and without a status', () => {
    const reader = new FrameReader({ expectMasked: false });
    expect(reader.push(encodeFrame({ opcode: OPCODE_CLOSE, payload: closePayload(1001, 'bye') }))).toEqual([{ type: 'close', code: 1001, reason: 'bye' }]);
    expect(reader.push(encodeFrame({ opcode: OPCODE_CLOSE, payload: new Uint8Array(0) }))).toEqual([{ type: 'close', code: CLOSE_NO_STATUS, reason: '' }]);
  });

  it('fails the connection on protocol violations, once, and ignores what follows', () => {
    const cases: [Uint8Array, number][] = [
      [encodeFrame({ opcode: OPCODE_BINARY, payload: bytes(4) }), CLOSE_PROTOCOL_ERROR], // unmasked from a client
      [encodeFrame({ opcode: OPCODE_CONTINUATION, payload: bytes(4), mask: MASK }), CLOSE_PROTOCOL_ERROR],
      [encodeFrame({ opcode: OPCODE_PING, payload: bytes(4), fin: false, mask: MASK }), CLOSE_PROTOCOL_ERROR],
      [encodeFrame({ opcode: 0x3, payload: bytes(4), mask: MASK }), CLOSE_PROTOCOL_ERROR],
      [encodeFrame({ opcode: OPCODE_CLOSE, payload: new Uint8Array([0x03, 0xed]), mask: MASK }), CLOSE_PROTOCOL_ERROR], // 1005 may not be sent
      [encodeFrame({ opcode: OPCODE_TEXT, payload: new Uint8Array([0xc3, 0x28]), mask: MASK }), CLOSE_INVALID_DATA],
    ];
    for (const [wire, code] of cases) {
      const reader = new FrameReader({ expectMasked: true });
      expect(reader.push(wire)).toEqual([expect.objectContaining({ type: 'error', code })]);
      expect(reader.push(encodeFrame({ opcode: OPCODE_BINARY, payload: bytes(4), mask: MASK }))).toEqual([]);
    }
    const rsv = encodeFrame({ opcode: OPCODE_BINARY, payload: bytes(4), mask: MASK });
    rsv[0] |= 0x40;
    expect(new FrameReader({ expectMasked: true }).push(rsv)[0]).toMatchObject({ type: 'error', code: CLOSE_PROTOCOL_ERROR });
  });

  it('refuses a message over the limit from its header, before the payload arrives', () => {
    const reader = new FrameReader({ expectMasked: false, maxMessageBytes: 2000 });
    const wire = encodeFrame({ opcode: OPCODE_BINARY, payload: bytes(3000) });
    expect(reader.push(wire.subarray(0, 4))).toEqual([expect.objectContaining({ type: 'error', code: CLOSE_TOO_BIG })]);
    // The limit covers all fragments of a message together.
    const fragmented = new FrameReader({ expectMasked: false, maxMessageBytes: 2000 });
    expect(fragmented.push(encodeFrame({ opcode: OPCODE_BINARY, payload: bytes(1500), fin: false }))).toEqual([]);
    expect(fragmented.push(encodeFrame({ opcode: OPCODE_CONTINUATION, payload: bytes(1500) }))[0]).toMatchObject({ type: 'error', code: CLOSE_TOO_BIG });
  });
});
