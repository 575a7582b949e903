/**
 * What the relay's NAT needs from the host side, kept abstract so the TCP/UDP state machines
 * stay portable and testable: the Node relay plugs in node:net / node:dgram sockets
 * (src/cli/relay-sockets-node.ts), tests plug in fakes.
 */

/** Events a host TCP socket reports to the NAT connection that opened it. */
export interface HostTcpEvents {
  /** The connection to the host-side peer is established. */
  onConnect(): void;
  onData(data: Uint8Array): void;
  /** The peer finished sending (its FIN); writing is still possible. */
  onEnd(): void;
  /** The socket is gone; `error` says why when it failed (refused, reset, unreachable). */
  onClose(error?: string): void;
  /** Bytes queued by `write` have gone out; there is room again. */
  onDrain(): void;
}

export interface HostTcpSocket {
  write(data: Uint8Array): void;
  /** Bytes accepted by `write` and not yet handed to the host's network. */
  readonly pendingBytes: number;
  /** Half-close: our FIN to the peer after pending data. */
  end(): void;
  /** Abort the connection (the peer sees a reset). */
  destroy(): void;
  /** Stop or restart reading from the peer (flow control toward a slow guest). */
  pause(): void;
  resume(): void;
}

/** Opens a TCP connection to a host address (IPv4 as a number) and port. */
export type HostTcpConnector = (address: number, port: number, events: HostTcpEvents) => HostTcpSocket;

export interface HostUdpSocket {
  send(address: number, port: number, payload: Uint8Array): void;
  close(): void;
}

/** Opens a UDP socket on the host; `onMessage` gets every datagram that arrives on it. */
export type HostUdpBinder = (onMessage: (payload: Uint8Array, address: number, port: number) => void) => HostUdpSocket;

/** Resolves a name to IPv4 addresses (the host's resolver, /etc/hosts included); [] if none. */
export type HostResolver = (name: string) => Promise<number[]>;

/** Timers, replaceable in tests (default: the global setTimeout). */
export interface NatTimers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const globalTimers: NatTimers = {
  set: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    // Under Node, pending NAT timers must not keep a finished process alive.
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
