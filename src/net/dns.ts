/**
 * A small DNS server (RFC 1035) for the gateway: A queries for names in a static table get an
 * authoritative answer; other names go to a relay when one is configured (a later step forwards
 * them to a resolver outside the emulator) and otherwise get NXDOMAIN. Names in the table with
 * other query types (AAAA, MX...) get an empty NOERROR answer, so resolvers do not retry them.
 *
 * Left out: more than one question per query (FORMERR), EDNS, TCP, PTR records, and
 * compression in questions (a query with a compressed question is a FORMERR).
 */
import { readU16, writeU16, writeU32 } from './ipv4.ts';

export const DNS_PORT = 53;
export const DNS_TYPE_A = 1;
export const DNS_CLASS_IN = 1;
export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

/** Forwards a query elsewhere; returns false if it will not, so the server answers itself. */
export type DnsRelay = (query: Uint8Array, respond: (response: Uint8Array) => void) => boolean;

export interface DnsServerConfig {
  /** Lower-case names (without the trailing dot) to IPv4 addresses. */
  hosts: Map<string, number>;
  ttlSeconds?: number;
  relay?: DnsRelay;
}

export interface DnsStats {
  answered: number;
  notFound: number;
  relayed: number;
  malformed: number;
}

/** Parses the header and the single question; undefined if it is not a one-question query. */
export function parseDnsQuery(data: Uint8Array): { id: number; flags: number; question: DnsQuestion; questionEnd: number } | undefined {
  if (data.length < 12) return undefined;
  const flags = readU16(data, 2);
  if (flags & 0x8000 || readU16(data, 4) !== 1) return undefined;
  const labels: string[] = [];
  let i = 12;
  for (;;) {
    if (i >= data.length) return undefined;
    const length = data[i++];
    if (length === 0) break;
    if (length > 63 || i + length > data.length) return undefined;
    labels.push(String.fromCharCode(...data.subarray(i, i + length)));
    i += length;
  }
  if (i + 4 > data.length) return undefined;
  return { id: readU16(data, 0), flags, question: { name: labels.join('.').toLowerCase(), type: readU16(data, i), class: readU16(data, i + 2) }, questionEnd: i + 4 };
}

/** Builds a query, as a client sends it (recursion desired). */
export function buildDnsQuery(id: number, name: string, type = DNS_TYPE_A): Uint8Array {
  const encoded = encodeName(name);
  const out = new Uint8Array(12 + encoded.length + 4);
  writeU16(out, 0, id);
  writeU16(out, 2, 0x0100);
  writeU16(out, 4, 1);
  out.set(encoded, 12);
  writeU16(out, 12 + encoded.length, type);
  writeU16(out, 14 + encoded.length, DNS_CLASS_IN);
  return out;
}

/** The rcode and the A addresses of a response (answers after the first question). */
export function parseDnsResponse(data: Uint8Array): { id: number; rcode: number; addresses: number[] } | undefined {
  if (data.length < 12 || !(data[2] & 0x80)) return undefined;
  let i = skipName(data, 12) + 4;
  const addresses: number[] = [];
  for (let n = readU16(data, 6); n > 0 && i > 0 && i + 10 <= data.length; n--) {
    i = skipName(data, i);
    if (i < 0 || i + 10 > data.length) break;
    const type = readU16(data, i);
    const length = readU16(data, i + 8);
    if (type === DNS_TYPE_A && length === 4) addresses.push(((data[i + 10] << 24) | (data[i + 11] << 16) | (data[i + 12] << 8) | data[i + 13]) >>> 0);
    i += 10 + length;
  }
  return { id: readU16(data, 0), rcode: data[3] & 0x0f, addresses };
}

export class DnsServer {
  readonly stats: DnsStats = { answered: 0, notFound: 0, relayed: 0, malformed: 0 };

  constructor(readonly config: DnsServerConfig) {}

  handle(query: Uint8Array, respond: (response: Uint8Array) => void): void {
    const q = parseDnsQuery(query);
    if (!q) {
      this.stats.malformed++;
      // Answer FORMERR when at least the header is there, so the client does not wait.
      if (query.length >= 12 && !(query[2] & 0x80)) respond(header(readU16(query, 0), readU16(query, 2), RCODE_FORMERR, 0, 0));
      return;
    }
    const { question } = q;
    const address = this.config.hosts.get(question.name);
    if (address === undefined) {
      if (this.config.relay?.(query, respond)) {
        this.stats.relayed++;
        return;
      }
      this.stats.notFound++;
      respond(this.answer(query, q, RCODE_NXDOMAIN, undefined));
      return;
    }
    this.stats.answered++;
    const matches = question.type === DNS_TYPE_A && question.class === DNS_CLASS_IN;
    respond(this.answer(query, q, RCODE_NOERROR, matches ? address : undefined));
  }

  private answer(query: Uint8Array, q: NonNullable<ReturnType<typeof parseDnsQuery>>, rcode: number, address: number | undefined): Uint8Array {
    const questionBytes = query.subarray(12, q.questionEnd);
    const answerBytes = address === undefined ? 0 : 16;
    const out = new Uint8Array(12 + questionBytes.length + answerBytes);
    out.set(header(q.id, q.flags, rcode, 1, address === undefined ? 0 : 1));
    out.set(questionBytes, 12);
    if (address !== undefined) {
      const a = 12 + questionBytes.length;
      writeU16(out, a, 0xc00c); // pointer to the name in the question
      writeU16(out, a + 2, DNS_TYPE_A);
      writeU16(out, a + 4, DNS_CLASS_IN);
      writeU32(out, a + 6, this.config.ttlSeconds ?? 300);
      writeU16(out, a + 10, 4);
      writeU32(out, a + 12, address);
    }
    return out;
  }
}

/** A response header: QR and AA set, opcode and RD copied from the query. */
function header(id: number, queryFlags: number, rcode: number, questions: number, answers: number): Uint8Array {
  const out = new Uint8Array(12);
  writeU16(out, 0, id);
  writeU16(out, 2, 0x8400 | (queryFlags & 0x7900) | rcode);
  writeU16(out, 4, questions);
  writeU16(out, 6, answers);
  return out;
}

function encodeName(name: string): Uint8Array {
  const labels = name.split('.').filter((l) => l.length);
  const out = new Uint8Array(labels.reduce((n, l) => n + 1 + l.length, 1));
  let i = 0;
  for (const label of labels) {
    out[i++] = label.length;
    for (let k = 0; k < label.length; k++) out[i++] = label.charCodeAt(k) & 0x7f;
  }
  return out;
}

/** Offset just past a (possibly compressed) name, or -1. */
function skipName(data: Uint8Array, i: number): number {
  while (i < data.length) {
    const length = data[i];
    if (length === 0) return i + 1;
    if ((length & 0xc0) === 0xc0) return i + 2;
    i += 1 + length;
  }
  return -1;
}
