/**
 * WebSocket framing (RFC 6455 section 5): building frames and reading a byte stream back into
 * messages, for the Node client and server of the network relay (browsers frame for themselves).
 * Portable: no Node APIs, so it is tested and reused on both sides.
 *
 * The reader reassembles fragmented messages, answers nothing itself (it reports pings and
 * closes to the connection that owns it), unmasks client frames, and turns every protocol
 * violation into one `error` event carrying the close code to send (1002 protocol error,
 * 1007 text that is not UTF-8, 1009 message too big). Extensions (RSV bits) are not
 * negotiated, so any RSV bit is a protocol error.
 */

export const OPCODE_CONTINUATION = 0x0;
export const OPCODE_TEXT = 0x1;
export const OPCODE_BINARY = 0x2;
export const OPCODE_CLOSE = 0x8;
export const OPCODE_PING = 0x9;
export const OPCODE_PONG = 0xa;

export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_UNSUPPORTED_DATA = 1003;
/** Reported (never sent) when a close frame carried no status code. */
export const CLOSE_NO_STATUS = 1005;
/** Reported (never sent) when the connection ended without a close frame. */
export const CLOSE_ABNORMAL = 1006;
export const CLOSE_INVALID_DATA = 1007;
export const CLOSE_TOO_BIG = 1009;

/** The GUID a server appends to the client's key before hashing it (section 1.3). */
export const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Control frames carry at most 125 bytes and are never fragmented (section 5.5). */
const MAX_CONTROL_PAYLOAD = 125;

export interface FrameOptions {
  opcode: number;
  payload: Uint8Array;
  /** Final fragment; default true. */
  fin?: boolean;
  /** Four-byte masking key: clients must mask every frame, servers never do. */
  mask?: Uint8Array;
}

/** One frame as bytes on the wire. */
export function encodeFrame(f: FrameOptions): Uint8Array {
  const length = f.payload.length;
  const lengthBytes = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const maskBytes = f.mask ? 4 : 0;
  const header = 2 + lengthBytes + maskBytes;
  const out = new Uint8Array(header + length);
  out[0] = (f.fin === false ? 0 : 0x80) | (f.opcode & 0x0f);
  out[1] = (f.mask ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) {
    out[2] = length >> 8;
    out[3] = length & 0xff;
  } else if (lengthBytes === 8) {
    // Lengths above 2^32 never occur here (messages are bounded far below that).
    const high = Math.floor(length / 0x1_0000_0000);
    for (let i = 0; i < 4; i++) out[2 + i] = (high >>> (24 - 8 * i)) & 0xff;
    for (let i = 0; i < 4; i++) out[6 + i] = (length >>> (24 - 8 * i)) & 0xff;
  }
  out.set(f.payload, header);
  if (f.mask) {
    out.set(f.mask.subarray(0, 4), 2 + lengthBytes);
    for (let i = 0; i < length; i++) out[header + i] ^= f.mask[i & 3];
  }
  return out;
}

/** The payload of a close frame: the status code and a UTF-8 reason cut to fit 125 bytes. */
export function closePayload(code: number, reason = ''): Uint8Array {
  let text = new TextEncoder().encode(reason);
  if (text.length > MAX_CONTROL_PAYLOAD - 2) text = text.subarray(0, MAX_CONTROL_PAYLOAD - 2);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}

export type ReadEvent =
  | { type: 'binary'; data: Uint8Array }
  | { type: 'text'; data: string }
  | { type: 'ping'; data: Uint8Array }
  | { type: 'pong'; data: Uint8Array }
  | { type: 'close'; code: number; reason: string }
  /** The peer broke the protocol: close with `code`; the reader ignores all later input. */
  | { type: 'error'; code: number; reason: string };

export interface FrameReaderOptions {
  /** A server reads client frames, which must be masked; a client reads unmasked frames. */
  expectMasked: boolean;
  /** Largest message (all fragments together); default 1 MiB. */
  maxMessageBytes?: number;
}

/** Turns a byte stream from the peer into messages and control events. */
export class FrameReader {
  private buffered: Uint8Array = new Uint8Array(0);
  private fragments: Uint8Array[] = [];
  private fragmentBytes = 0;
  /** Opcode of the message being reassembled, or undefined between messages. */
  private fragmentOpcode: number | undefined;
  private failed = false;
  private readonly maxMessageBytes: number;
  private readonly textDecoder = new TextDecoder('utf-8', { fatal: true });

  constructor(private readonly options: FrameReaderOptions) {
    this.maxMessageBytes = options.maxMessageBytes ?? 1 << 20;
  }

  /** Feeds bytes as they arrive; returns the events completed by them, in order. */
  push(chunk: Uint8Array): ReadEvent[] {
    if (this.failed) return [];
    // Copied into a plain Uint8Array: a Node Buffer's slice() would share memory, not copy.
    this.buffered = this.buffered.length ? concat(this.buffered, chunk) : Uint8Array.from(chunk);
    const events: ReadEvent[] = [];
    for (;;) {
      const consumed = this.readFrame(events);
      if (consumed === 0) break;
      this.buffered = this.buffered.subarray(consumed);
      if (this.failed) break;
    }
    if (this.failed) this.buffered = new Uint8Array(0);
    return events;
  }

  /** Reads one frame from the buffer; returns the bytes it used, 0 if incomplete. */
  private readFrame(events: ReadEvent[]): number {
    const b = this.buffered;
    if (b.length < 2) return 0;
    const fin = (b[0] & 0x80) !== 0;
    const opcode = b[0] & 0x0f;
    const masked = (b[1] & 0x80) !== 0;
    let length = b[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.length < 4) return 0;
      length = (b[2] << 8) | b[3];
      offset = 4;
    } else if (length === 127) {
      if (b.length < 10) return 0;
      const high = ((b[2] << 24) | (b[3] << 16) | (b[4] << 8) | b[5]) >>> 0;
      const low = ((b[6] << 24) | (b[7] << 16) | (b[8] << 8) | b[9]) >>> 0;
      // Anything past 2^32 is far beyond the message limit anyway.
      length = high !== 0 ? Infinity : low;
      offset = 10;
    }
    if (b[0] & 0x70) return this.fail(events, CLOSE_PROTOCOL_ERROR, 'reserved bits set without an extension');
    if (masked !== this.options.expectMasked) {
      return this.fail(events, CLOSE_PROTOCOL_ERROR, masked ? 'a server must not mask frames' : 'a client must mask frames');
    }
    const control = (opcode & 0x08) !== 0;
    if (control) {
      if (opcode !== OPCODE_CLOSE && opcode !== OPCODE_PING && opcode !== OPCODE_PONG) return this.fail(events, CLOSE_PROTOCOL_ERROR, `unknown opcode ${opcode}`);
      if (!fin || length > MAX_CONTROL_PAYLOAD) return this.fail(events, CLOSE_PROTOCOL_ERROR, 'control frames must be short and unfragmented');
    } else {
      if (opcode !== OPCODE_CONTINUATION && opcode !== OPCODE_TEXT && opcode !== OPCODE_BINARY) return this.fail(events, CLOSE_PROTOCOL_ERROR, `unknown opcode ${opcode}`);
      if (opcode === OPCODE_CONTINUATION && this.fragmentOpcode === undefined) return this.fail(events, CLOSE_PROTOCOL_ERROR, 'continuation without a message');
      if (opcode !== OPCODE_CONTINUATION && this.fragmentOpcode !== undefined) return this.fail(events, CLOSE_PROTOCOL_ERROR, 'new message inside a fragmented one');
      // Checked before the payload arrives, so a huge length is refused without buffering it.
      if (this.fragmentBytes + length > this.maxMessageBytes) return this.fail(events, CLOSE_TOO_BIG, `message larger than ${this.maxMessageBytes} bytes`);
    }
    const maskOffset = offset;
    if (masked) offset += 4;
    if (b.length < offset + length) return 0;
    const payload = b.slice(offset, offset + length);
    if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= b[maskOffset + (i & 3)];
    const used = offset + length;

    if (control) {
      if (opcode === OPCODE_PING) events.push({ type: 'ping', data: payload });
      else if (opcode === OPCODE_PONG) events.push({ type: 'pong', data: payload });
      else return this.readClose(events, payload, used);
      return used;
    }
    if (opcode !== OPCODE_CONTINUATION) this.fragmentOpcode = opcode;
    this.fragments.push(payload);
    this.fragmentBytes += payload.length;
    if (!fin) return used;
    const message = this.fragments.length === 1 ? this.fragments[0] : concat(...this.fragments);
    const messageOpcode = this.fragmentOpcode;
    this.fragments = [];
    this.fragmentBytes = 0;
    this.fragmentOpcode = undefined;
    if (messageOpcode === OPCODE_BINARY) {
      events.push({ type: 'binary', data: message });
      return used;
    }
    try {
      events.push({ type: 'text', data: this.textDecoder.decode(message) });
    } catch {
      return this.fail(events, CLOSE_INVALID_DATA, 'text message is not UTF-8');
    }
    return used;
  }

  private readClose(events: ReadEvent[], payload: Uint8Array, used: number): number {
    if (payload.length === 0) {
      events.push({ type: 'close', code: CLOSE_NO_STATUS, reason: '' });
      return used;
    }
    if (payload.length === 1) return this.fail(events, CLOSE_PROTOCOL_ERROR, 'close frame with a one-byte body');
    const code = (payload[0] << 8) | payload[1];
    if (!validCloseCode(code)) return this.fail(events, CLOSE_PROTOCOL_ERROR, `invalid close code ${code}`);
    let reason: string;
    try {
      reason = this.textDecoder.decode(payload.subarray(2));
    } catch {
      return this.fail(events, CLOSE_INVALID_DATA, 'close reason is not UTF-8');
    }
    events.push({ type: 'close', code, reason });
    return used;
  }

  private fail(events: ReadEvent[], code: number, reason: string): number {
    this.failed = true;
    events.push({ type: 'error', code, reason });
    return 1; // any non-zero value stops the loop; the buffer is dropped
  }
}

/** Codes a peer may send in a close frame (section 7.4). */
export function validCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== CLOSE_NO_STATUS && code !== CLOSE_ABNORMAL;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.length;
  }
  return out;
}
