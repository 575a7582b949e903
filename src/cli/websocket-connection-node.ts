/**
 * NODE-ONLY: one open WebSocket (RFC 6455) over a TCP socket, after the HTTP upgrade, for
 * either end. It looks like the browser's WebSocket (readyState, onopen/onmessage/onclose/
 * onerror, send, close), so the network uplink uses it unchanged under Node 20, which has no
 * WebSocket client.
 *
 * Clients mask every frame with a fresh random key; servers never mask. Pings are answered with
 * pongs; with `keepAliveMs` the connection also pings the peer and fails it when nothing comes
 * back for two intervals. The closing handshake follows section 7: a close frame is answered
 * with a close frame, the server then ends the TCP connection, the client waits for it (and
 * ends it itself after a grace period). Protocol errors close with the code the reader gives.
 */
import { randomFillSync } from 'node:crypto';
import type { Duplex } from 'node:stream';
import {
  CLOSE_ABNORMAL, CLOSE_NO_STATUS, CLOSE_NORMAL, closePayload, encodeFrame, FrameReader, OPCODE_BINARY, OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG,
  OPCODE_TEXT, type ReadEvent,
} from '../net/websocket-frames.ts';
import type { WebSocketLike } from '../net/websocket-uplink.ts';

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;

/** How long a closing connection waits for the peer before dropping the TCP connection. */
const CLOSE_GRACE_MS = 2000;

export interface ConnectionOptions {
  role: 'client' | 'server';
  /** Largest message accepted; default 1 MiB. */
  maxMessageBytes?: number;
  /** Ping the peer this often and fail the connection if it stays silent for two intervals. */
  keepAliveMs?: number;
}

export class NodeWebSocket implements WebSocketLike {
  binaryType = 'arraybuffer';
  onopen: ((event: any) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null = null;
  onerror: ((event: any) => void) | null = null;
  private state = CONNECTING;
  private socket: Duplex | undefined;
  private readonly reader: FrameReader;
  private closeSent = false;
  private closeReceived: { code: number; reason: string } | undefined;
  private failure: { code: number; reason: string } | undefined;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private keepAliveTimer: ReturnType<typeof setInterval> | undefined;
  private heardFromPeer = true;

  constructor(private readonly options: ConnectionOptions) {
    this.reader = new FrameReader({ expectMasked: options.role === 'server', maxMessageBytes: options.maxMessageBytes });
  }

  get readyState(): number {
    return this.state;
  }

  /** Bytes handed to the TCP socket and not yet written (for senders that drop under load). */
  get bufferedAmount(): number {
    return this.socket?.writableLength ?? 0;
  }

  /** @internal Starts the open connection on `socket`; `head` is what came after the HTTP headers. */
  attach(socket: Duplex, head: Uint8Array): void {
    this.socket = socket;
    this.state = OPEN;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.onerror?.({ type: 'error', error }));
    socket.on('close', () => this.finish());
    // A peer that half-closes has nothing more to say: end our side too.
    socket.on('end', () => socket.end());
    if (this.options.keepAliveMs) {
      this.keepAliveTimer = setInterval(() => this.keepAlive(), this.options.keepAliveMs);
      this.keepAliveTimer.unref?.();
    }
    queueMicrotask(() => {
      this.onopen?.({ type: 'open' });
      if (head.length) this.receive(head);
    });
  }

  /** @internal The upgrade failed before the connection opened. */
  fail(message: string): void {
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    this.onerror?.({ type: 'error', message });
    this.onclose?.({ code: CLOSE_ABNORMAL, reason: message, wasClean: false });
  }

  send(data: ArrayBuffer | ArrayBufferView | string): void {
    if (this.state === CONNECTING) throw new Error('WebSocket is still connecting');
    if (this.state !== OPEN) return; // as browsers do: data sent after close is discarded
    if (typeof data === 'string') this.write(OPCODE_TEXT, new TextEncoder().encode(data));
    else if (data instanceof ArrayBuffer) this.write(OPCODE_BINARY, new Uint8Array(data));
    else this.write(OPCODE_BINARY, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  close(code = CLOSE_NORMAL, reason = ''): void {
    if (this.state === CONNECTING) {
      this.fail('closed before the connection opened');
      return;
    }
    if (this.state !== OPEN) return;
    this.startClosing(code, reason);
  }

  private startClosing(code: number, reason: string): void {
    this.state = CLOSING;
    if (!this.closeSent) {
      this.closeSent = true;
      this.write(OPCODE_CLOSE, closePayload(code, reason));
    }
    clearTimeout(this.graceTimer);
    this.graceTimer = setTimeout(() => this.socket?.destroy(), CLOSE_GRACE_MS);
    this.graceTimer.unref?.();
  }

  private write(opcode: number, payload: Uint8Array): void {
    const mask = this.options.role === 'client' ? randomFillSync(new Uint8Array(4)) : undefined;
    this.socket?.write(encodeFrame({ opcode, payload, mask }));
  }

  private receive(chunk: Uint8Array): void {
    this.heardFromPeer = true;
    for (const event of this.reader.push(chunk)) this.handle(event);
  }

  private handle(event: ReadEvent): void {
    switch (event.type) {
      case 'binary':
        if (this.state === OPEN) this.onmessage?.({ data: this.binaryType === 'nodebuffer' ? Buffer.from(event.data) : exactBuffer(event.data) });
        return;
      case 'text':
        if (this.state === OPEN) this.onmessage?.({ data: event.data });
        return;
      case 'ping':
        if (this.state === OPEN) this.write(OPCODE_PONG, event.data);
        return;
      case 'pong':
        return;
      case 'close':
        this.closeReceived = { code: event.code, reason: event.reason };
        // Echo the status code (section 5.5.1); a server ends the TCP connection first.
        if (!this.closeSent) this.startClosing(event.code === CLOSE_NO_STATUS ? CLOSE_NORMAL : event.code, '');
        if (this.options.role === 'server') this.socket?.end();
        return;
      case 'error':
        this.failure = { code: event.code, reason: event.reason };
        this.onerror?.({ type: 'error', message: event.reason });
        if (!this.closeSent) this.startClosing(event.code, event.reason);
        this.socket?.end();
        return;
    }
  }

  private keepAlive(): void {
    if (this.state !== OPEN) return;
    if (!this.heardFromPeer) {
      this.failure = { code: CLOSE_ABNORMAL, reason: 'peer stopped answering pings' };
      this.socket?.destroy();
      return;
    }
    this.heardFromPeer = false;
    this.write(OPCODE_PING, new Uint8Array(0));
  }

  private finish(): void {
    if (this.state === CLOSED) return;
    this.state = CLOSED;
    clearTimeout(this.graceTimer);
    clearInterval(this.keepAliveTimer);
    const clean = this.closeSent && this.closeReceived !== undefined && !this.failure;
    const status = this.failure ?? this.closeReceived ?? { code: CLOSE_ABNORMAL, reason: '' };
    this.onclose?.({ code: status.code, reason: status.reason, wasClean: clean });
  }
}

/** The message's own ArrayBuffer (copied only if the bytes are a window on a larger one). */
function exactBuffer(data: Uint8Array): ArrayBuffer {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength) return data.buffer as ArrayBuffer;
  return data.slice().buffer as ArrayBuffer;
}
