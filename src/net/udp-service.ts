/**
 * How services on the gateway (DHCP, DNS, TFTP) receive and send UDP datagrams without knowing
 * about Ethernet or IP: they bind local ports and send from them.
 */
export interface UdpEndpoint {
  address: number;
  port: number;
}

/** Called with each datagram that arrives for a bound port. */
export type UdpHandler = (payload: Uint8Array, from: UdpEndpoint, localPort: number) => void;

export interface UdpBinder {
  /** Starts delivering datagrams for `port`; false if the port is taken. */
  bind(port: number, handler: UdpHandler): boolean;
  unbind(port: number): void;
  sendTo(localPort: number, to: UdpEndpoint, payload: Uint8Array): void;
}
