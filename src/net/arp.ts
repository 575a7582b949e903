/**
 * ARP for IPv4 over Ethernet (RFC 826): the 28-byte packet, parsed and built.
 */
import { readU16, readU32, writeU16, writeU32 } from './ipv4.ts';

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const ARP_PACKET_BYTES = 28;

export interface ArpPacket {
  operation: number;
  senderMac: Uint8Array;
  senderIp: number;
  targetMac: Uint8Array;
  targetIp: number;
}

/** Parses an Ethernet/IPv4 ARP packet; undefined for other hardware or protocol types. */
export function parseArp(data: Uint8Array): ArpPacket | undefined {
  if (data.length < ARP_PACKET_BYTES) return undefined;
  if (readU16(data, 0) !== 1 || readU16(data, 2) !== 0x0800 || data[4] !== 6 || data[5] !== 4) return undefined;
  return {
    operation: readU16(data, 6),
    senderMac: data.slice(8, 14),
    senderIp: readU32(data, 14),
    targetMac: data.slice(18, 24),
    targetIp: readU32(data, 24),
  };
}

export function buildArp(p: ArpPacket): Uint8Array {
  const out = new Uint8Array(ARP_PACKET_BYTES);
  writeU16(out, 0, 1);
  writeU16(out, 2, 0x0800);
  out[4] = 6;
  out[5] = 4;
  writeU16(out, 6, p.operation);
  out.set(p.senderMac.subarray(0, 6), 8);
  writeU32(out, 14, p.senderIp);
  out.set(p.targetMac.subarray(0, 6), 18);
  writeU32(out, 24, p.targetIp);
  return out;
}
