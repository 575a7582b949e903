/**
 * ICMP (RFC 792): echo request/reply, the only messages the gateway answers.
 */
import { internetChecksum, writeU16 } from './ipv4.ts';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;

export interface IcmpMessage {
  type: number;
  code: number;
  /** Everything after the checksum (for echo: identifier, sequence number, data). */
  body: Uint8Array;
}

export function parseIcmp(data: Uint8Array): IcmpMessage | undefined {
  if (data.length < 8 || internetChecksum(data) !== 0) return undefined;
  return { type: data[0], code: data[1], body: data.subarray(4) };
}

export function buildIcmp(m: IcmpMessage): Uint8Array {
  const out = new Uint8Array(4 + m.body.length);
  out[0] = m.type;
  out[1] = m.code;
  out.set(m.body, 4);
  writeU16(out, 2, internetChecksum(out));
  return out;
}

/** The reply to an echo request: same identifier, sequence number and data. */
export function echoReply(request: IcmpMessage): Uint8Array | undefined {
  if (request.type !== ICMP_ECHO_REQUEST || request.code !== 0) return undefined;
  return buildIcmp({ type: ICMP_ECHO_REPLY, code: 0, body: request.body });
}
