/**
 * Ethernet II frames (IEEE 802.3 clause 3): the 14-byte header, MAC address helpers, and the
 * CRC-32 of the frame check sequence, which also drives the multicast hash filters of NICs.
 */
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERNET_HEADER_BYTES = 14;
/** Shortest frame without its FCS (64 bytes on the wire); shorter frames are padded. */
export const MIN_FRAME_BYTES = 60;
export const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export interface EthernetFrame {
  destination: Uint8Array;
  source: Uint8Array;
  etherType: number;
  payload: Uint8Array;
}

/** Splits a frame; undefined when it is too short to hold a header. */
export function parseEthernet(frame: Uint8Array): EthernetFrame | undefined {
  if (frame.length < ETHERNET_HEADER_BYTES) return undefined;
  return {
    destination: frame.subarray(0, 6),
    source: frame.subarray(6, 12),
    etherType: (frame[12] << 8) | frame[13],
    payload: frame.subarray(ETHERNET_HEADER_BYTES),
  };
}

/** Builds a frame, padded with zeros to the 60-byte minimum. */
export function buildEthernet(destination: Uint8Array, source: Uint8Array, etherType: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(Math.max(MIN_FRAME_BYTES, ETHERNET_HEADER_BYTES + payload.length));
  frame.set(destination.subarray(0, 6), 0);
  frame.set(source.subarray(0, 6), 6);
  frame[12] = (etherType >> 8) & 0xff;
  frame[13] = etherType & 0xff;
  frame.set(payload, ETHERNET_HEADER_BYTES);
  return frame;
}

/** Parses `00:16:3e:7e:f3:15` (or with dashes); undefined when malformed. */
export function parseMac(text: string): Uint8Array | undefined {
  const parts = text.trim().split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) return undefined;
  return new Uint8Array(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function macEquals(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function isBroadcast(mac: Uint8Array): boolean {
  return macEquals(mac, BROADCAST_MAC);
}

/** Group bit: the least significant bit of the first octet (broadcast is a group address too). */
export function isMulticast(mac: Uint8Array): boolean {
  return (mac[0] & 1) !== 0;
}

/** A 48-bit address as a number, for map keys. */
export function macKey(mac: Uint8Array): number {
  return ((mac[0] * 256 + mac[1]) * 256 + mac[2]) * 16777216 + ((mac[3] << 16) | (mac[4] << 8) | mac[5]);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** The CRC-32 of the FCS (reflected, as zlib computes it); the FCS is this value little-endian. */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Bit index (0-63) of a multicast address in a 64-bit hash filter such as the RTL8139's MAR0-7:
 * the top six bits of the CRC-32 register run most-significant-bit first over the address
 * bits taken least-significant-bit first, without the final inversion (Linux's ether_crc).
 */
export function multicastHashIndex(mac: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < 6; i++) {
    let b = mac[i];
    for (let bit = 0; bit < 8; bit++, b >>= 1) {
      const carry = (crc >>> 31) ^ (b & 1);
      crc = (crc << 1) >>> 0;
      if (carry) crc = (crc ^ 0x04c11db7) >>> 0;
    }
  }
  return crc >>> 26;
}
