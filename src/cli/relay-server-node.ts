/**
 * NODE-ONLY: the network relay server behind `webhvm relay`: a WebSocket server whose every
 * client is a port on one virtual switch, one raw Ethernet frame per binary message (the
 * websockproxy framing, so v86 and WebHVM uplinks both connect), with a RelayNetwork on the same
 * switch giving the clients DHCP, DNS and NAT to the host's network. Guests of all clients share
 * the switch, so VMs on one relay reach each other directly.
 */
import { MAX_FRAME_BYTES } from '../net/network-port.ts';
import { ETHERNET_HEADER_BYTES } from '../net/ethernet.ts';
import { RelayNetwork } from '../net/relay-network.ts';
import { VirtualSwitch } from '../net/virtual-switch.ts';
import { bindUdpNode, connectTcpNode, resolveNode } from './relay-sockets-node.ts';
import type { NodeWebSocket } from './websocket-connection-node.ts';
import { startWebSocketServer, type RunningWebSocketServer } from './websocket-server-node.ts';

export interface RelayServerOptions {
  host: string;
  port: number;
  /** Guests reach the host's 127.0.0.1 at the router's address (see RelayNetwork). */
  hostLoopback: boolean;
  /** Router address and prefix on the guests' side; defaults as RelayNetwork. */
  address?: string;
  prefixLength?: number;
  /** Told about clients coming and going. */
  log?: (line: string) => void;
}

export interface RelayServerStats {
  clients: number;
  framesIn: number;
  framesOut: number;
  /** Messages that were not a frame (text, too short, too long). */
  badMessages: number;
  /** Frames not sent to a client that was not keeping up. */
  congestionDrops: number;
}

export interface RunningRelay {
  url: string;
  network: RelayNetwork;
  switch: VirtualSwitch;
  stats: RelayServerStats;
  close(): Promise<void>;
}

/** Bytes queued toward one client past which further frames to it are dropped, as a full switch port does. */
const CLIENT_QUEUE_LIMIT = 4 << 20;

export async function startRelayServer(options: RelayServerOptions): Promise<RunningRelay> {
  const sw = new VirtualSwitch('relay');
  const network = new RelayNetwork({
    port: sw.connect('router'),
    connectTcp: connectTcpNode,
    bindUdp: bindUdpNode,
    resolve: resolveNode,
    hostLoopback: options.hostLoopback,
    address: options.address,
    prefixLength: options.prefixLength,
  });
  const stats: RelayServerStats = { clients: 0, framesIn: 0, framesOut: 0, badMessages: 0, congestionDrops: 0 };
  let nextClient = 1;
  const server: RunningWebSocketServer = await startWebSocketServer({
    host: options.host,
    port: options.port,
    banner: 'webhvm relay: connect a WebSocket here; each binary message is one Ethernet frame.\n',
    // Larger messages are counted and dropped below rather than ending the connection.
    maxMessageBytes: 65536,
    keepAliveMs: 30_000,
    onConnection: (socket: NodeWebSocket, request) => {
      const name = `client-${nextClient++} (${request.socket.remoteAddress}:${request.socket.remotePort})`;
      const port = sw.connect(name);
      stats.clients++;
      options.log?.(`${name} connected`);
      port.onReceive = (frame) => {
        if (socket.bufferedAmount > CLIENT_QUEUE_LIMIT) {
          stats.congestionDrops++;
          return;
        }
        stats.framesOut++;
        socket.send(frame);
      };
      socket.onmessage = ({ data }) => {
        if (!(data instanceof ArrayBuffer) || data.byteLength < ETHERNET_HEADER_BYTES || data.byteLength > MAX_FRAME_BYTES) {
          stats.badMessages++;
          return;
        }
        stats.framesIn++;
        port.send(new Uint8Array(data));
      };
      socket.onclose = ({ code }) => {
        sw.disconnect(port);
        stats.clients--;
        options.log?.(`${name} disconnected (${code})`);
      };
    },
  });
  const host = server.address.family === 'IPv6' ? `[${server.address.address}]` : server.address.address;
  return {
    url: `ws://${host}:${server.address.port}/`,
    network,
    switch: sw,
    stats,
    close: async () => {
      network.close();
      await server.close();
    },
  };
}
