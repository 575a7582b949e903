/**
 * Where a network card's frames go. A port is one socket of a virtual switch (or anything else
 * that carries Ethernet frames: the built-in gateway, later a BroadcastChannel link to another
 * tab). Frames are whole Ethernet frames from the destination address to the end of the
 * payload: no preamble and no frame check sequence (the card adds or checks those itself).
 *
 * The endpoint that owns the port calls `send` to put a frame on the wire and sets
 * `onReceive` to be handed the frames the network delivers to it. A frame passed to
 * `onReceive` belongs to the receiver only for the duration of the call: copy it to keep it.
 */
export interface NetworkPort {
  send(frame: Uint8Array): void;
  onReceive: ((frame: Uint8Array) => void) | undefined;
}

/** Largest frame a port carries: 1514 bytes of a standard frame plus a VLAN tag. */
export const MAX_FRAME_BYTES = 1518;
