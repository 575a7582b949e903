/**
 * NODE-ONLY: the host side of the relay's NAT: TCP connections with node:net, UDP sockets with
 * node:dgram, name lookups with node:dns (getaddrinfo, so /etc/hosts applies).
 */
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { Socket } from 'node:net';
import { formatIpv4Address, parseIpv4Address } from '../net/ipv4.ts';
import type { HostResolver, HostTcpConnector, HostUdpBinder } from '../net/tcp-nat-host.ts';

export const connectTcpNode: HostTcpConnector = (address, port, events) => {
  const socket = new Socket({ allowHalfOpen: true });
  let failure: string | undefined;
  socket.setNoDelay(true);
  socket.on('connect', () => events.onConnect());
  socket.on('data', (chunk: Buffer) => events.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  socket.on('end', () => events.onEnd());
  socket.on('drain', () => events.onDrain());
  socket.on('error', (error: NodeJS.ErrnoException) => (failure = error.code ?? error.message));
  socket.on('close', (hadError) => events.onClose(hadError ? (failure ?? 'error') : undefined));
  socket.connect(port, formatIpv4Address(address));
  return {
    write: (data) => void socket.write(data),
    get pendingBytes() {
      return socket.writableLength;
    },
    end: () => void socket.end(),
    destroy: () => {
      if (socket.destroyed) return;
      // The peer sees a reset, as the guest's own RST asked for.
      try {
        socket.resetAndDestroy();
      } catch {
        socket.destroy();
      }
    },
    pause: () => void socket.pause(),
    resume: () => void socket.resume(),
  };
};

export const bindUdpNode: HostUdpBinder = (onMessage) => {
  const socket = createSocket('udp4');
  socket.on('message', (message, remote) => {
    const address = parseIpv4Address(remote.address);
    if (address !== undefined) onMessage(new Uint8Array(message), address, remote.port);
  });
  // Send errors (unreachable hosts) are what UDP loses silently anyway.
  socket.on('error', () => {});
  socket.bind(0);
  let closed = false;
  return {
    send: (address, port, payload) => {
      if (!closed) socket.send(payload, port, formatIpv4Address(address), () => {});
    },
    close: () => {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
};

export const resolveNode: HostResolver = async (name) => {
  try {
    const results = await lookup(name, { family: 4, all: true });
    return results.map((r) => parseIpv4Address(r.address)).filter((a): a is number => a !== undefined);
  } catch {
    return [];
  }
};
