/**
 * One guest TCP connection through the relay's NAT: toward the guest it plays the remote server
 * (RFC 9293), toward the host it is an ordinary socket. The guest's SYN opens the host socket;
 * only when that connects does the guest get SYN-ACK (a refused connection gets RST, as from
 * the real server). After that, bytes flow both ways:
 *
 * - guest to host: in-order segments are written to the host socket and acknowledged; a
 *   segment past a gap is dropped with a duplicate ACK (the guest retransmits); the window
 *   advertised shrinks with the bytes the host socket has not sent yet.
 * - host to guest: bytes wait in a send buffer until the guest acknowledges them, go out in
 *   segments of at most the guest's MSS within its window, and are sent again from the oldest
 *   unacknowledged byte when the retransmission timer fires (go-back-N, the timeout doubling
 *   up to a limit, then the connection is reset). The host socket is paused while the buffer
 *   is full.
 * - FIN either way is passed on as a half-close; RST either way tears down both sides.
 *
 * Left out: window scaling, SACK, timestamps, congestion control (the guest is one hop away),
 * urgent data, and out-of-order reassembly (the guest resends what was dropped).
 */
import type { HostTcpConnector, HostTcpSocket, NatTimers } from './tcp-nat-host.ts';
import { sequenceDelta, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type TcpSegment } from './tcp-nat-segment.ts';

export interface TcpEndpoints {
  guestAddress: number;
  guestPort: number;
  remoteAddress: number;
  remotePort: number;
}

export interface ConnectionContext {
  connect: HostTcpConnector;
  timers: NatTimers;
  /** Puts a segment from the remote end on the guest's wire. */
  emit(segment: TcpSegment): void;
  /** The connection is finished; remove it from the table. */
  forget(): void;
}

export type ConnectionState = 'connecting' | 'syn-received' | 'established' | 'closed';

/** Our MSS toward the guest: an Ethernet MTU minus the IPv4 and TCP headers. */
export const NAT_MSS = 1460;
const RECEIVE_WINDOW = 65535;
/** Host bytes buffered toward the guest before the host socket is paused, and resumed below half. */
const SEND_BUFFER_HIGH = 256 * 1024;
/** Guest bytes waiting for the host socket past which new data is dropped (not acknowledged). */
const HOST_BACKLOG_LIMIT = 1024 * 1024;
export const INITIAL_RTO_MS = 500;
const MAX_RTO_MS = 8000;
export const MAX_RETRANSMISSIONS = 8;
export const CONNECT_TIMEOUT_MS = 30_000;
/** How long a finished connection stays to acknowledge a retransmitted FIN (a short TIME-WAIT). */
export const LINGER_MS = 2000;

export class NatConnection {
  state: ConnectionState = 'connecting';
  /** Why the relay reset the connection itself (timeouts), for diagnostics. */
  resetReason: string | undefined;
  private host: HostTcpSocket | undefined;
  private readonly iss: number;
  /** Next sequence number expected from the guest. */
  private rcvNxt: number;
  /** Oldest unacknowledged, next to send, and highest sent sequence numbers of ours. */
  private sndUna: number;
  private sndNxt: number;
  private sndMax: number;
  private sndWnd = 0;
  private readonly guestMss: number;
  /** Host bytes from sequence number sndUna (after the SYN) on. */
  private sendBuffer: Uint8Array = new Uint8Array(0);
  private hostPaused = false;
  private hostEnded = false;
  private hostClosed = false;
  /** Our FIN (sent after the last buffered byte once the host ended) was acknowledged. */
  private finAcked = false;
  private guestFinReceived = false;
  private timer: unknown;
  private rto = INITIAL_RTO_MS;
  private retransmissions = 0;

  constructor(readonly endpoints: TcpEndpoints, syn: TcpSegment, iss: number, hostAddress: number, private readonly context: ConnectionContext) {
    this.iss = iss >>> 0;
    this.sndUna = this.sndNxt = this.sndMax = this.iss;
    this.rcvNxt = (syn.sequence + 1) >>> 0;
    this.guestMss = Math.max(64, Math.min(syn.mss ?? 536, NAT_MSS));
    this.sndWnd = syn.window;
    this.arm(CONNECT_TIMEOUT_MS, () => this.reset('connect timeout'));
    this.host = context.connect(hostAddress, endpoints.remotePort, {
      onConnect: () => this.hostConnected(),
      onData: (data) => this.hostData(data),
      onEnd: () => {
        this.hostEnded = true;
        this.pump();
      },
      onClose: (error) => this.hostGone(error),
      onDrain: () => this.windowUpdate(),
    });
  }

  /** A segment from the guest for this connection. */
  receive(s: TcpSegment): void {
    if (this.state === 'closed') {
      // TIME-WAIT: the guest did not hear our last ACK; say it again.
      if (!(s.flags & TCP_RST)) this.sendAck();
      return;
    }
    if (s.flags & TCP_RST) {
      if (this.inReceiveWindow(s.sequence)) this.abort();
      return;
    }
    if (s.flags & TCP_SYN) {
      // A retransmitted SYN: answer again once the host side is connected.
      if (this.state === 'syn-received' && s.sequence === ((this.rcvNxt - 1) >>> 0)) this.sendSynAck();
      return;
    }
    if (this.state === 'connecting' || !(s.flags & TCP_ACK)) return;
    this.acknowledge(s.acknowledgement, s.window);
    if (this.state !== 'established') return;
    this.acceptData(s);
    this.pump();
    this.maybeFinish();
  }

  /** The guest vanished (its switch port closed): reset the host side. */
  abort(): void {
    this.host?.destroy();
    this.close(false);
  }

  private hostConnected(): void {
    if (this.state !== 'connecting') return;
    this.state = 'syn-received';
    this.sendSynAck();
  }

  private sendSynAck(): void {
    this.sndNxt = (this.iss + 1) >>> 0;
    this.sndMax = this.sndNxt;
    this.context.emit(this.segment(TCP_SYN | TCP_ACK, this.iss, new Uint8Array(0), NAT_MSS));
    this.arm(this.rto, () => this.retransmit());
  }

  private hostData(data: Uint8Array): void {
    if (this.state === 'closed') return;
    const grown = new Uint8Array(this.sendBuffer.length + data.length);
    grown.set(this.sendBuffer);
    grown.set(data, this.sendBuffer.length);
    this.sendBuffer = grown;
    if (!this.hostPaused && this.sendBuffer.length > SEND_BUFFER_HIGH) {
      this.hostPaused = true;
      this.host?.pause();
    }
    this.pump();
  }

  private hostGone(error: string | undefined): void {
    this.hostClosed = true;
    if (this.state === 'closed') return;
    if (error || this.state === 'connecting') {
      // Refused, reset or unreachable: the guest sees a reset, as from the real peer.
      this.context.emit(this.segment(TCP_RST | TCP_ACK, this.sndNxt, new Uint8Array(0)));
      this.close(false);
      return;
    }
    this.hostEnded = true;
    this.pump();
    this.maybeFinish();
  }

  /** Processes the guest's acknowledgement number and window. */
  private acknowledge(ack: number, window: number): void {
    const advance = sequenceDelta(ack, this.sndUna);
    if (advance < 0 || sequenceDelta(ack, this.sndMax) > 0) return; // old or beyond what we sent
    this.sndWnd = window;
    if (advance === 0) return;
    let dataBytes = advance;
    if (this.state === 'syn-received') {
      this.state = 'established';
      dataBytes--; // the SYN takes one sequence number
    }
    // Acknowledging past the buffered data can only cover our FIN (ack <= sndMax was checked).
    if (this.hostEnded && dataBytes > this.sendBuffer.length) {
      this.finAcked = true;
      dataBytes = this.sendBuffer.length;
    }
    this.sendBuffer = this.sendBuffer.subarray(Math.min(dataBytes, this.sendBuffer.length));
    this.sndUna = ack >>> 0;
    if (sequenceDelta(this.sndNxt, this.sndUna) < 0) this.sndNxt = this.sndUna;
    this.rto = INITIAL_RTO_MS;
    this.retransmissions = 0;
    if (this.hostPaused && this.sendBuffer.length < SEND_BUFFER_HIGH / 2) {
      this.hostPaused = false;
      this.host?.resume();
    }
    if (this.sndUna === this.sndMax) this.disarm();
    else this.arm(this.rto, () => this.retransmit());
  }

  private acceptData(s: TcpSegment): void {
    let payload = s.payload;
    const fin = (s.flags & TCP_FIN) !== 0;
    const offset = sequenceDelta(this.rcvNxt, s.sequence);
    if (offset < 0) {
      // A gap before this segment: drop it, and the duplicate ACK tells the guest where we are.
      this.sendAck();
      return;
    }
    if (offset > payload.length || (offset === payload.length && !fin) || (this.guestFinReceived && (payload.length || fin))) {
      // Entirely old: a retransmission we already have. Acknowledge again if it carried anything.
      if (payload.length || fin) this.sendAck();
      return;
    }
    payload = payload.subarray(offset);
    if (payload.length) {
      if (this.hostClosed || !this.host) {
        this.context.emit(this.segment(TCP_RST | TCP_ACK, this.sndNxt, new Uint8Array(0)));
        this.close(false);
        return;
      }
      if (this.host.pendingBytes > HOST_BACKLOG_LIMIT) return; // not acknowledged: the guest resends
      this.host.write(payload.slice());
      this.rcvNxt = (this.rcvNxt + payload.length) >>> 0;
    }
    if (fin) {
      this.rcvNxt = (this.rcvNxt + 1) >>> 0;
      this.guestFinReceived = true;
      if (!this.hostClosed) this.host?.end();
    }
    this.sendAck();
  }

  /** Sends what the guest's window allows, then our FIN once the host finished and all is sent. */
  private pump(): void {
    if (this.state !== 'established') return;
    for (;;) {
      const inFlight = sequenceDelta(this.sndNxt, this.sndUna);
      const unsent = this.sendBuffer.length - inFlight;
      const room = this.sndWnd - inFlight;
      if (unsent <= 0 || room <= 0) break;
      const length = Math.min(unsent, room, this.guestMss);
      this.sendData(inFlight, length);
    }
    // The FIN's sequence number follows the last buffered byte: send it when everything before is out.
    if (this.hostEnded && !this.finAcked && sequenceDelta(this.sndNxt, this.sndUna) === this.sendBuffer.length) {
      this.context.emit(this.segment(TCP_FIN | TCP_ACK, this.sndNxt, new Uint8Array(0)));
      this.sndNxt = (this.sndNxt + 1) >>> 0;
      if (sequenceDelta(this.sndNxt, this.sndMax) > 0) this.sndMax = this.sndNxt;
    }
    if (this.sndNxt !== this.sndUna) this.armIfIdle();
    else if (this.sendBuffer.length && this.sndWnd === 0) this.armIfIdle(); // zero window: probe later
  }

  private sendData(bufferOffset: number, length: number): void {
    const payload = this.sendBuffer.slice(bufferOffset, bufferOffset + length);
    this.context.emit(this.segment(TCP_ACK | TCP_PSH, this.sndNxt, payload));
    this.sndNxt = (this.sndNxt + length) >>> 0;
    if (sequenceDelta(this.sndNxt, this.sndMax) > 0) this.sndMax = this.sndNxt;
  }

  private retransmit(): void {
    this.timer = undefined;
    if (this.state === 'closed') return;
    if (++this.retransmissions > MAX_RETRANSMISSIONS) {
      this.reset('the guest stopped acknowledging');
      return;
    }
    this.rto = Math.min(this.rto * 2, MAX_RTO_MS);
    if (this.state === 'syn-received') {
      this.sendSynAck();
      return;
    }
    // Go back to the oldest unacknowledged byte; a FIN not yet acknowledged goes again after the data.
    this.sndNxt = this.sndUna;
    const before = this.sndNxt;
    this.pump();
    if (this.sndNxt === before && this.sendBuffer.length) {
      // Zero window: a one-byte probe beyond it (RFC 9293 section 3.8.6.1).
      this.sendData(0, 1);
    }
    this.arm(this.rto, () => this.retransmit());
  }

  /** The host socket drained: tell the guest the window opened again. */
  private windowUpdate(): void {
    if (this.state === 'established') this.sendAck();
  }

  private maybeFinish(): void {
    if (this.state === 'established' && this.guestFinReceived && this.finAcked) this.close(true);
  }

  private reset(reason: string): void {
    if (this.state === 'closed') return;
    this.resetReason = reason;
    this.context.emit(this.segment(TCP_RST | TCP_ACK, this.sndNxt, new Uint8Array(0)));
    this.host?.destroy();
    this.close(false);
  }

  private close(linger: boolean): void {
    this.state = 'closed';
    this.sendBuffer = new Uint8Array(0);
    if (!this.hostClosed) {
      if (linger) this.host?.end();
      else this.host?.destroy();
    }
    if (linger) this.arm(LINGER_MS, () => this.context.forget());
    else {
      this.disarm();
      this.context.forget();
    }
  }

  private inReceiveWindow(sequence: number): boolean {
    const d = sequenceDelta(sequence, this.rcvNxt);
    return d >= 0 && d <= RECEIVE_WINDOW;
  }

  private sendAck(): void {
    this.context.emit(this.segment(TCP_ACK, this.sndNxt, new Uint8Array(0)));
  }

  private segment(flags: number, sequence: number, payload: Uint8Array, mss?: number): TcpSegment {
    const backlog = this.host?.pendingBytes ?? 0;
    return {
      sourcePort: this.endpoints.remotePort,
      destinationPort: this.endpoints.guestPort,
      sequence: sequence >>> 0,
      acknowledgement: this.rcvNxt,
      flags,
      window: Math.max(0, RECEIVE_WINDOW - backlog),
      mss,
      payload,
    };
  }

  private arm(ms: number, callback: () => void): void {
    this.disarm();
    this.timer = this.context.timers.set(callback, ms);
  }

  private armIfIdle(): void {
    if (this.timer === undefined) this.arm(this.rto, () => this.retransmit());
  }

  private disarm(): void {
    if (this.timer !== undefined) this.context.timers.clear(this.timer);
    this.timer = undefined;
  }
}
