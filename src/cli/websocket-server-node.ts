/**
 * NODE-ONLY: a minimal WebSocket server (RFC 6455 section 4.2) on node:http: it accepts GET
 * upgrades with Sec-WebSocket-Version 13 and a 16-byte key on any path, answers 101 with the
 * accept hash, and hands each connection (a NodeWebSocket) to `onConnection`. Other requests get
 * a short plain-text page saying what this is; a bad upgrade gets 400 (426 for another version).
 * No subprotocols or extensions are negotiated.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { acceptKey } from './websocket-client-node.ts';
import { NodeWebSocket } from './websocket-connection-node.ts';

export interface WebSocketServerOptions {
  host: string;
  port: number;
  onConnection: (socket: NodeWebSocket, request: IncomingMessage) => void;
  /** Text of the page served to plain HTTP requests. */
  banner?: string;
  maxMessageBytes?: number;
  keepAliveMs?: number;
}

export interface RunningWebSocketServer {
  server: Server;
  /** The address actually bound (port 0 picks a free one). */
  address: AddressInfo;
  close(): Promise<void>;
}

export function startWebSocketServer(options: WebSocketServerOptions): Promise<RunningWebSocketServer> {
  const server = createServer((request, response) => {
    response.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket', Connection: 'close' });
    response.end(options.banner ?? 'This is a WebSocket endpoint.\n');
  });
  const open = new Set<Duplex>();
  server.on('upgrade', (request: IncomingMessage, tcp: Duplex, head: Buffer) => {
    const refusal = checkUpgrade(request);
    if (refusal) {
      tcp.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const key = String(request.headers['sec-websocket-key']);
    tcp.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`);
    (tcp as Duplex & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    open.add(tcp);
    tcp.on('close', () => open.delete(tcp));
    const socket = new NodeWebSocket({ role: 'server', maxMessageBytes: options.maxMessageBytes, keepAliveMs: options.keepAliveMs });
    socket.attach(tcp, head);
    options.onConnection(socket, request);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve({
        server,
        address: server.address() as AddressInfo,
        close: () =>
          new Promise<void>((done) => {
            for (const tcp of open) tcp.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Why an upgrade request is refused (an HTTP status line), or undefined when it is good. */
function checkUpgrade(request: IncomingMessage): string | undefined {
  const h = request.headers;
  if (request.method !== 'GET') return '405 Method Not Allowed';
  if (String(h.upgrade ?? '').toLowerCase() !== 'websocket') return '400 Bad Request';
  if (!String(h.connection ?? '').toLowerCase().split(/\s*,\s*/).includes('upgrade')) return '400 Bad Request';
  if (h['sec-websocket-version'] !== '13') return '426 Upgrade Required';
  const key = String(h['sec-websocket-key'] ?? '');
  if (Buffer.from(key, 'base64').length !== 16) return '400 Bad Request';
  return undefined;
}
