/**
 * Joins a bridge's switch to the switches of the same bridge name in other tabs and workers of
 * the same origin, over a BroadcastChannel named after the bridge: the link is one switch port;
 * what the switch hands it is posted to the channel, and what the channel brings is sent into
 * the switch from that port.
 *
 * No frame loops: BroadcastChannel never delivers a message to the object that posted it, and
 * the switch never sends a frame back out of the port it came in on, so a frame from the
 * channel is not posted again. The channel behaves like a hub between the switches: every
 * other context sees every frame that leaves one, and each switch learns which addresses are
 * behind its link. Works wherever BroadcastChannel exists (browsers, workers, Node 18+).
 */
import { ETHERNET_HEADER_BYTES } from './ethernet.ts';
import { MAX_FRAME_BYTES, type NetworkPort } from './network-port.ts';
import type { VirtualSwitch } from './virtual-switch.ts';

export const CHANNEL_PREFIX = 'webhvm-bridge:';

export interface BroadcastLinkStats {
  posted: number;
  received: number;
  /** Messages on the channel that were not a frame. */
  malformed: number;
}

/** The part of BroadcastChannel the link uses (replaceable in tests). */
export interface ChannelLike {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  close(): void;
}

export class BroadcastChannelLink {
  readonly stats: BroadcastLinkStats = { posted: 0, received: 0, malformed: 0 };
  private readonly port: NetworkPort;
  private readonly channel: ChannelLike;
  private closed = false;

  constructor(private readonly sw: VirtualSwitch, channel?: ChannelLike) {
    this.channel = channel ?? (new BroadcastChannel(CHANNEL_PREFIX + sw.name) as unknown as ChannelLike);
    this.port = sw.connect(`broadcast-channel:${sw.name}`);
    this.port.onReceive = (frame) => {
      // Posting copies the bytes (structured clone), so the frame may be reused after the call.
      this.channel.postMessage(frame);
      this.stats.posted++;
    };
    this.channel.onmessage = (event) => this.fromChannel(event.data);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel.onmessage = null;
    this.channel.close();
    this.sw.disconnect(this.port);
  }

  private fromChannel(data: unknown): void {
    if (!(data instanceof Uint8Array) || data.length < ETHERNET_HEADER_BYTES || data.length > MAX_FRAME_BYTES) {
      this.stats.malformed++;
      return;
    }
    this.stats.received++;
    this.port.send(data);
  }
}
