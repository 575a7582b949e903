import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptKey, connectNodeWebSocket } from '../../src/cli/websocket-client-node.ts';
import { CLOSED, type NodeWebSocket, OPEN } from '../../src/cli/websocket-connection-node.ts';
import { startWebSocketServer, type RunningWebSocketServer } from '../../src/cli/websocket-server-node.ts';
import { encodeFrame, FrameReader, OPCODE_BINARY, OPCODE_CONTINUATION, OPCODE_PING, OPCODE_TEXT, type ReadEvent } from '../../src/net/websocket-frames.ts';

let server: RunningWebSocketServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A server that echoes every message back and remembers its connections. */
async function echoServer() {
  const accepted: NodeWebSocket[] = [];
  server = await startWebSocketServer({
    host: '127.0.0.1',
    port: 0,
    onConnection: (socket) => {
      accepted.push(socket);
      socket.onmessage = ({ data }) => socket.send(data as ArrayBuffer | string);
    },
  });
  return { url: `ws://127.0.0.1:${server.address.port}/`, port: server.address.port, accepted };
}

function opened(socket: NodeWebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onclose = (e) => reject(new Error(`closed ${e.code} ${e.reason}`));
  });
}

function nextMessage(socket: NodeWebSocket): Promise<unknown> {
  return new Promise((resolve) => (socket.onmessage = ({ data }) => resolve(data)));
}

function closed(socket: NodeWebSocket): Promise<{ code: number; reason: string; wasClean: boolean }> {
  return new Promise((resolve) => (socket.onclose = resolve));
}

/** A raw TCP client that performs the handshake by hand, to send frames no well-behaved client would. */
async function rawClient(port: number): Promise<{ tcp: Socket; events: ReadEvent[]; ended: Promise<void> }> {
  const tcp = connect(port, '127.0.0.1');
  const reader = new FrameReader({ expectMasked: false });
  const events: ReadEvent[] = [];
  let headerDone = false;
  let pending = Buffer.alloc(0);
  await new Promise<void>((resolve) => {
    tcp.on('data', (chunk: Buffer) => {
      if (headerDone) {
        events.push(...reader.push(chunk));
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      expect(pending.subarray(0, end).toString()).toContain(`Sec-WebSocket-Accept: ${acceptKey('dGhlIHNhbXBsZSBub25jZQ==')}`);
      headerDone = true;
      events.push(...reader.push(pending.subarray(end + 4)));
      resolve();
    });
    tcp.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  });
  const ended = new Promise<void>((resolve) => tcp.on('close', () => resolve()));
  return { tcp, events, ended };
}

const MASK = new Uint8Array([1, 2, 3, 4]);
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Node WebSocket client and server', () => {
  it('computes the accept key of RFC 6455 section 1.3', () => {
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('connects, echoes binary and text messages, and closes cleanly with the status code', async () => {
    const { url, accepted } = await echoServer();
    const client = connectNodeWebSocket(url);
    await opened(client);
    expect(client.readyState).toBe(OPEN);
    const frame = Uint8Array.from({ length: 1514 }, (_, i) => i & 0xff);
    client.send(frame);
    expect(new Uint8Array((await nextMessage(client)) as ArrayBuffer)).toEqual(frame);
    client.send('héllo');
    expect(await nextMessage(client)).toBe('héllo');
    const serverSide = closed(accepted[0]);
    const clientSide = closed(client);
    client.close(1000, 'done');
    expect(await clientSide).toEqual({ code: 1000, reason: '', wasClean: true });
    expect(await serverSide).toEqual({ code: 1000, reason: 'done', wasClean: true });
    expect(client.readyState).toBe(CLOSED);
  });

  it('server: reassembles fragmented masked frames, answers pings, and closes on an unmasked frame with 1002', async () => {
    const { port } = await echoServer();
    const raw = await rawClient(port);
    raw.tcp.write(encodeFrame({ opcode: OPCODE_BINARY, payload: new Uint8Array([1, 2]), fin: false, mask: MASK }));
    raw.tcp.write(encodeFrame({ opcode: OPCODE_PING, payload: new Uint8Array([42]), mask: MASK }));
    raw.tcp.write(encodeFrame({ opcode: OPCODE_CONTINUATION, payload: new Uint8Array([3]), mask: MASK }));
    await wait(100);
    expect(raw.events).toEqual([
      { type: 'pong', data: new Uint8Array([42]) },
      { type: 'binary', data: new Uint8Array([1, 2, 3]) },
    ]);
    raw.tcp.write(encodeFrame({ opcode: OPCODE_TEXT, payload: new Uint8Array([65]) }));
    await raw.ended;
    expect(raw.events.at(-1)).toMatchObject({ type: 'close', code: 1002 });
  });

  it('client: reads unmasked server frames and refuses masked ones', async () => {
    // A hand-written server: complete the handshake, then send what a broken server would.
    const { createServer } = await import('node:http');
    const http = createServer();
    http.on('upgrade', (req, tcp) => {
      tcp.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(String(req.headers['sec-websocket-key']))}\r\n\r\n`);
      tcp.write(encodeFrame({ opcode: OPCODE_BINARY, payload: new Uint8Array([9, 9]) }));
      tcp.write(encodeFrame({ opcode: OPCODE_BINARY, payload: new Uint8Array([8]), mask: MASK }));
      // Reply to the client's close frame by ending the connection.
      tcp.on('data', () => tcp.end());
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as { port: number }).port;
    const client = connectNodeWebSocket(`ws://127.0.0.1:${port}/`);
    const messages: unknown[] = [];
    client.onmessage = ({ data }) => messages.push(new Uint8Array(data as ArrayBuffer));
    const end = closed(client);
    expect(await end).toMatchObject({ code: 1002, wasClean: false });
    expect(messages).toEqual([new Uint8Array([9, 9])]);
    http.close();
  });

  it('reports a server that is not there as a close (1006), not an exception', async () => {
    const { port } = await echoServer();
    await server!.close();
    server = undefined;
    const refused = connectNodeWebSocket(`ws://127.0.0.1:${port}/`);
    expect(await closed(refused)).toMatchObject({ code: 1006, wasClean: false });
    expect(refused.readyState).toBe(CLOSED);
    expect(() => connectNodeWebSocket('http://127.0.0.1/')).toThrow(/ws:\/\//);
  });

  it('answers plain HTTP and bad upgrades with an HTTP error', async () => {
    const { port } = await echoServer();
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(426);
    const raw = connect(port, '127.0.0.1');
    let reply = '';
    raw.on('data', (d: Buffer) => (reply += d.toString()));
    raw.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await new Promise((r) => raw.on('close', r));
    expect(reply).toMatch(/^HTTP\/1.1 400/);
  });
});
