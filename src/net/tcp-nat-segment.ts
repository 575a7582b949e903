/**
 * TCP segments (RFC 9293 section 3.1) for the relay's NAT: parsing with checksum verification
 * and the MSS option, building with the checksum filled in. Only the MSS option is read or
 * written (no window scaling, timestamps or SACK are offered, so the guest uses none).
 */
import { internetChecksum, IP_PROTOCOL_TCP, pseudoHeaderSum, readU16, readU32, writeU16, writeU32 } from './ipv4.ts';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_HEADER_BYTES = 20;
const OPTION_END = 0;
const OPTION_NOP = 1;
const OPTION_MSS = 2;

export interface TcpSegment {
  sourcePort: number;
  destinationPort: number;
  sequence: number;
  acknowledgement: number;
  flags: number;
  window: number;
  /** The maximum segment size option (SYN segments), if present. */
  mss?: number;
  payload: Uint8Array;
}

/** Parses a segment; undefined when it is truncated or its checksum is wrong. */
export function parseTcp(data: Uint8Array, source: number, destination: number): TcpSegment | undefined {
  if (data.length < TCP_HEADER_BYTES) return undefined;
  const headerBytes = (data[12] >> 4) * 4;
  if (headerBytes < TCP_HEADER_BYTES || headerBytes > data.length) return undefined;
  if (internetChecksum(data, pseudoHeaderSum(source, destination, IP_PROTOCOL_TCP, data.length)) !== 0) return undefined;
  let mss: number | undefined;
  for (let i = TCP_HEADER_BYTES; i < headerBytes; ) {
    const kind = data[i];
    if (kind === OPTION_END) break;
    if (kind === OPTION_NOP) {
      i++;
      continue;
    }
    const length = data[i + 1];
    if (i + 1 >= headerBytes || length < 2 || i + length > headerBytes) break;
    if (kind === OPTION_MSS && length === 4) mss = readU16(data, i + 2);
    i += length;
  }
  return {
    sourcePort: readU16(data, 0),
    destinationPort: readU16(data, 2),
    sequence: readU32(data, 4),
    acknowledgement: readU32(data, 8),
    flags: data[13] & 0x3f,
    window: readU16(data, 14),
    mss,
    payload: data.subarray(headerBytes),
  };
}

/** Builds a segment (with the MSS option when `mss` is given) and its checksum. */
export function buildTcp(source: number, destination: number, s: TcpSegment): Uint8Array {
  const headerBytes = TCP_HEADER_BYTES + (s.mss === undefined ? 0 : 4);
  const out = new Uint8Array(headerBytes + s.payload.length);
  writeU16(out, 0, s.sourcePort);
  writeU16(out, 2, s.destinationPort);
  writeU32(out, 4, s.sequence >>> 0);
  writeU32(out, 8, s.acknowledgement >>> 0);
  out[12] = (headerBytes / 4) << 4;
  out[13] = s.flags;
  writeU16(out, 14, s.window);
  if (s.mss !== undefined) {
    out[20] = OPTION_MSS;
    out[21] = 4;
    writeU16(out, 22, s.mss);
  }
  out.set(s.payload, headerBytes);
  writeU16(out, 16, internetChecksum(out, pseudoHeaderSum(source, destination, IP_PROTOCOL_TCP, out.length)));
  return out;
}

/** a - b in sequence space (RFC 9293 section 3.4): negative when a is before b. */
export function sequenceDelta(a: number, b: number): number {
  return ((a - b) | 0);
}
