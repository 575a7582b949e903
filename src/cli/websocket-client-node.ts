/**
 * NODE-ONLY: a minimal WebSocket client (RFC 6455 section 4.1) for Node 20, which has no
 * WebSocket global: an HTTP/1.1 GET with the upgrade headers over node:http (node:https for
 * wss://), the Sec-WebSocket-Accept check, then NodeWebSocket on the upgraded socket.
 * `connectNodeWebSocket` has the shape of a WebSocketFactory, so a bridge uplink takes it as is.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { HANDSHAKE_GUID } from '../net/websocket-frames.ts';
import { CONNECTING, NodeWebSocket } from './websocket-connection-node.ts';

/** The Sec-WebSocket-Accept value a server must send back for `key`. */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + HANDSHAKE_GUID).digest('base64');
}

export interface ClientOptions {
  maxMessageBytes?: number;
  keepAliveMs?: number;
}

/** Opens `url` (ws:// or wss://); the socket reports failures through onerror/onclose like a browser's. */
export function connectNodeWebSocket(url: string, options: ClientOptions = {}): NodeWebSocket {
  const socket = new NodeWebSocket({ role: 'client', ...options });
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new SyntaxError(`'${url}' is not a URL`);
  }
  if (target.protocol !== 'ws:' && target.protocol !== 'wss:') throw new SyntaxError(`'${url}': expected a ws:// or wss:// URL`);
  const key = randomBytes(16).toString('base64');
  const request = (target.protocol === 'wss:' ? httpsRequest : httpRequest)({
    host: target.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: target.port || (target.protocol === 'wss:' ? 443 : 80),
    path: target.pathname + target.search,
    headers: {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Key': key,
      'Sec-WebSocket-Version': '13',
    },
  });
  request.on('upgrade', (response, tcp, head) => {
    // Closed by the caller while the handshake was under way.
    if (socket.readyState !== CONNECTING) {
      tcp.destroy();
      return;
    }
    if (response.headers['sec-websocket-accept'] !== acceptKey(key)) {
      tcp.destroy();
      socket.fail('the server sent a wrong Sec-WebSocket-Accept');
      return;
    }
    tcp.setNoDelay(true);
    socket.attach(tcp, head);
  });
  request.on('response', (response) => {
    response.resume();
    socket.fail(`the server answered HTTP ${response.statusCode} instead of switching to WebSocket`);
  });
  request.on('error', (error) => socket.fail(error.message));
  request.end();
  return socket;
}
