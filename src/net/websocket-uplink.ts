/**
 * A bridge's way out to a network relay: one port of a virtual switch carried over a WebSocket,
 * one raw Ethernet frame (destination address to the end of the payload, no FCS) per binary
 * message and nothing else, which is the framing of the "websockproxy" relays browser emulators
 * use (v86's `network_relay_url`): existing relays and `webhvm relay` both work.
 *
 * Like v86's adapter it queues a bounded number of frames while the socket connects, drops
 * frames while it is down (the switch is a best-effort network; guests retransmit), and
 * reconnects after a delay when the relay goes away. It takes its socket from a factory: the
 * browser's WebSocket (the default, also in workers), or under Node 20, which has no WebSocket
 * client, the one in src/cli/websocket-client-node.ts.
 */
import { ETHERNET_HEADER_BYTES } from './ethernet.ts';
import { MAX_FRAME_BYTES, type NetworkPort } from './network-port.ts';
import type { VirtualSwitch } from './virtual-switch.ts';

/** The part of the WHATWG WebSocket the uplink uses (browser WebSocket and the Node client). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null;
  onerror: ((event: any) => void) | null;
  send(data: ArrayBuffer | ArrayBufferView | string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

const OPEN = 1;

/** The browser's (or worker's) WebSocket; throws where there is none (Node 20). */
export const globalWebSocketFactory: WebSocketFactory = (url) => {
  const Socket = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (!Socket) throw new Error('no WebSocket here: pass a WebSocket factory (under Node: connectNodeWebSocket)');
  return new Socket(url);
};

export interface UplinkStats {
  /** Frames sent to the relay and received from it. */
  sent: number;
  received: number;
  /** Frames dropped: queue full or socket down (outgoing), text or wrong-sized messages (incoming). */
  droppedOutgoing: number;
  droppedIncoming: number;
  /** Connections opened (the first and every reconnection). */
  connections: number;
}

export interface UplinkOptions {
  url: string;
  webSocketFactory?: WebSocketFactory;
  /** Wait before reconnecting after the relay closed or failed; default 2000 ms. */
  reconnectDelayMs?: number;
  /** Frames kept while connecting; older ones are dropped first. Default 64. */
  queueLimit?: number;
  /** Told when the link goes up or down (for a status line). */
  onStatus?: (status: 'open' | 'closed', detail: string) => void;
}

export class WebSocketUplink {
  readonly stats: UplinkStats = { sent: 0, received: 0, droppedOutgoing: 0, droppedIncoming: 0, connections: 0 };
  private socket: WebSocketLike | undefined;
  private readonly queue: Uint8Array[] = [];
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly factory: WebSocketFactory;

  constructor(private readonly port: NetworkPort, private readonly options: UplinkOptions) {
    this.factory = options.webSocketFactory ?? globalWebSocketFactory;
    port.onReceive = (frame) => this.toRelay(frame);
    this.connect();
  }

  /** Plugs a new uplink into `sw` as the port `uplink:<url>`. */
  static attach(sw: VirtualSwitch, options: UplinkOptions): WebSocketUplink {
    return new WebSocketUplink(sw.connect(`uplink:${options.url}`), options);
  }

  get connected(): boolean {
    return this.socket?.readyState === OPEN;
  }

  /** Closes the socket for good; the port stays plugged in but carries nothing. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.queue.length = 0;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      socket.onclose = socket.onmessage = socket.onerror = socket.onopen = null;
      socket.close(1000, 'closed');
    }
  }

  private connect(): void {
    if (this.closed) return;
    let socket: WebSocketLike;
    try {
      socket = this.factory(this.options.url);
    } catch (error) {
      this.options.onStatus?.('closed', `cannot open ${this.options.url}: ${(error as Error).message}`);
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => {
      this.stats.connections++;
      this.options.onStatus?.('open', this.options.url);
      for (const frame of this.queue.splice(0)) this.sendNow(socket, frame);
    };
    socket.onmessage = (event) => this.fromRelay(event.data);
    // Errors are always followed by a close event; that is where reconnection happens.
    socket.onerror = () => {};
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.options.onStatus?.('closed', `${this.options.url} closed (${event.code}${event.reason ? ` ${event.reason}` : ''})`);
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), this.options.reconnectDelayMs ?? 2000);
  }

  private toRelay(frame: Uint8Array): void {
    const socket = this.socket;
    if (socket?.readyState === OPEN) {
      this.sendNow(socket, frame);
      return;
    }
    if (!socket || this.closed) {
      this.stats.droppedOutgoing++;
      return;
    }
    // Connecting: keep the newest frames (a DHCP discover sent at boot should not be lost).
    this.queue.push(frame.slice());
    if (this.queue.length > (this.options.queueLimit ?? 64)) {
      this.queue.shift();
      this.stats.droppedOutgoing++;
    }
  }

  private sendNow(socket: WebSocketLike, frame: Uint8Array): void {
    try {
      socket.send(frame);
      this.stats.sent++;
    } catch {
      this.stats.droppedOutgoing++;
    }
  }

  private fromRelay(data: unknown): void {
    const frame = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : undefined;
    if (!frame || frame.length < ETHERNET_HEADER_BYTES || frame.length > MAX_FRAME_BYTES) {
      this.stats.droppedIncoming++;
      return;
    }
    this.stats.received++;
    this.port.send(frame);
  }
}
