/**
 * UDP (RFC 768) over IPv4: datagram parsing with checksum verification and building with the
 * checksum filled in (a zero checksum on input means "not computed" and is accepted).
 */
import { internetChecksum, pseudoHeaderSum, IP_PROTOCOL_UDP, readU16, writeU16 } from './ipv4.ts';

export const UDP_HEADER_BYTES = 8;

export interface UdpDatagram {
  sourcePort: number;
  destinationPort: number;
  payload: Uint8Array;
}

export function parseUdp(data: Uint8Array, source: number, destination: number): UdpDatagram | undefined {
  if (data.length < UDP_HEADER_BYTES) return undefined;
  const length = readU16(data, 4);
  if (length < UDP_HEADER_BYTES || length > data.length) return undefined;
  const segment = data.subarray(0, length);
  if (readU16(data, 6) !== 0 && internetChecksum(segment, pseudoHeaderSum(source, destination, IP_PROTOCOL_UDP, length)) !== 0) {
    return undefined;
  }
  return { sourcePort: readU16(data, 0), destinationPort: readU16(data, 2), payload: data.subarray(UDP_HEADER_BYTES, length) };
}

export function buildUdp(source: number, destination: number, d: UdpDatagram): Uint8Array {
  const out = new Uint8Array(UDP_HEADER_BYTES + d.payload.length);
  writeU16(out, 0, d.sourcePort);
  writeU16(out, 2, d.destinationPort);
  writeU16(out, 4, out.length);
  out.set(d.payload, UDP_HEADER_BYTES);
  // A computed checksum of zero is sent as all ones (RFC 768).
  const sum = internetChecksum(out, pseudoHeaderSum(source, destination, IP_PROTOCOL_UDP, out.length)) || 0xffff;
  writeU16(out, 6, sum);
  return out;
}
