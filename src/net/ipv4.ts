/**
 * IPv4 (RFC 791): header parsing and building, the Internet checksum (RFC 1071) and dotted
 * address helpers. Addresses are unsigned 32-bit numbers. Options are skipped on input and
 * never produced; fragments are recognised so callers can drop them.
 */
export const IP_PROTOCOL_ICMP = 1;
export const IP_PROTOCOL_TCP = 6;
export const IP_PROTOCOL_UDP = 17;
export const IPV4_HEADER_BYTES = 20;

export interface Ipv4Packet {
  source: number;
  destination: number;
  protocol: number;
  ttl: number;
  identification: number;
  /** True for any fragment (more-fragments set or a non-zero offset). */
  fragment: boolean;
  payload: Uint8Array;
}

/** Parses a packet; undefined for anything malformed (version, lengths, header checksum). */
export function parseIpv4(data: Uint8Array): Ipv4Packet | undefined {
  if (data.length < IPV4_HEADER_BYTES || data[0] >> 4 !== 4) return undefined;
  const headerBytes = (data[0] & 0x0f) * 4;
  const total = (data[2] << 8) | data[3];
  // Ethernet padding may follow the packet; the total length says where it ends.
  if (headerBytes < IPV4_HEADER_BYTES || total < headerBytes || total > data.length) return undefined;
  if (internetChecksum(data.subarray(0, headerBytes)) !== 0) return undefined;
  const flagsOffset = (data[6] << 8) | data[7];
  return {
    source: readU32(data, 12),
    destination: readU32(data, 16),
    protocol: data[9],
    ttl: data[8],
    identification: (data[4] << 8) | data[5],
    fragment: (flagsOffset & 0x3fff) !== 0,
    payload: data.subarray(headerBytes, total),
  };
}

/** Builds a packet with a 20-byte header, don't-fragment clear, and its checksum. */
export function buildIpv4(p: { source: number; destination: number; protocol: number; payload: Uint8Array; ttl?: number; identification?: number }): Uint8Array {
  const out = new Uint8Array(IPV4_HEADER_BYTES + p.payload.length);
  out[0] = 0x45;
  out[2] = out.length >> 8;
  out[3] = out.length & 0xff;
  out[4] = ((p.identification ?? 0) >> 8) & 0xff;
  out[5] = (p.identification ?? 0) & 0xff;
  out[8] = p.ttl ?? 64;
  out[9] = p.protocol;
  writeU32(out, 12, p.source);
  writeU32(out, 16, p.destination);
  const sum = internetChecksum(out.subarray(0, IPV4_HEADER_BYTES));
  out[10] = sum >> 8;
  out[11] = sum & 0xff;
  out.set(p.payload, IPV4_HEADER_BYTES);
  return out;
}

/** One's complement of the one's complement sum of 16-bit words; 0 over data that carries its sum. */
export function internetChecksum(data: Uint8Array, initial = 0): number {
  let sum = initial;
  let i = 0;
  for (; i + 1 < data.length; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (i < data.length) sum += data[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The uncomplemented sum of the pseudo-header that UDP and TCP checksums cover. */
export function pseudoHeaderSum(source: number, destination: number, protocol: number, length: number): number {
  return (source >>> 16) + (source & 0xffff) + (destination >>> 16) + (destination & 0xffff) + protocol + length;
}

export function parseIpv4Address(text: string): number | undefined {
  const parts = text.trim().split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((a, p) => a * 256 + Number(p), 0) >>> 0;
}

export function formatIpv4Address(address: number): string {
  return [address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff].join('.');
}

export function readU32(data: Uint8Array, offset: number): number {
  return ((data[offset] << 24) | (data[offset + 1] << 16) | (data[offset + 2] << 8) | data[offset + 3]) >>> 0;
}

export function writeU32(data: Uint8Array, offset: number, value: number): void {
  data[offset] = value >>> 24;
  data[offset + 1] = (value >>> 16) & 0xff;
  data[offset + 2] = (value >>> 8) & 0xff;
  data[offset + 3] = value & 0xff;
}

export function readU16(data: Uint8Array, offset: number): number {
  return (data[offset] << 8) | data[offset + 1];
}

export function writeU16(data: Uint8Array, offset: number, value: number): void {
  data[offset] = (value >> 8) & 0xff;
  data[offset + 1] = value & 0xff;
}
