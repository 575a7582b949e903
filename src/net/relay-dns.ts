/**
 * DNS for guests behind the relay: plugs into the gateway's DNS server as its relay and answers
 * A queries from the host's resolver (HostResolver: under Node, node:dns lookup, so /etc/hosts
 * counts as it does for the host's own programs). Other query types get an empty NOERROR answer
 * (the guest then uses the A record); names the host cannot resolve get NXDOMAIN. A loopback
 * answer is rewritten to the relay's own address when guests reach the host's loopback there.
 */
import { DNS_CLASS_IN, DNS_TYPE_A, parseDnsQuery, RCODE_NOERROR, RCODE_NXDOMAIN, type DnsRelay } from './dns.ts';
import { writeU16, writeU32 } from './ipv4.ts';
import type { HostResolver } from './tcp-nat-host.ts';

export interface RelayDnsOptions {
  resolve: HostResolver;
  /** When set, 127.x.y.z answers become this address (the relay's, which leads to host loopback). */
  loopbackAlias?: number;
  ttlSeconds?: number;
}

export function relayDns(options: RelayDnsOptions): DnsRelay {
  return (query, respond) => {
    const q = parseDnsQuery(query);
    // The gateway's DNS server only relays queries it parsed; be safe anyway.
    if (!q) return false;
    if (q.question.type !== DNS_TYPE_A || q.question.class !== DNS_CLASS_IN) {
      respond(dnsAnswer(query, q.questionEnd, RCODE_NOERROR, [], 0));
      return true;
    }
    options.resolve(q.question.name).then(
      (addresses) => {
        const mapped = addresses.map((a) => (options.loopbackAlias !== undefined && a >>> 24 === 127 ? options.loopbackAlias : a));
        const unique = [...new Set(mapped)];
        respond(dnsAnswer(query, q.questionEnd, unique.length ? RCODE_NOERROR : RCODE_NXDOMAIN, unique, options.ttlSeconds ?? 60));
      },
      () => respond(dnsAnswer(query, q.questionEnd, RCODE_NXDOMAIN, [], 0)),
    );
    return true;
  };
}

/** A response to a one-question query: the question echoed, then one A record per address. */
export function dnsAnswer(query: Uint8Array, questionEnd: number, rcode: number, addresses: number[], ttlSeconds: number): Uint8Array {
  const out = new Uint8Array(questionEnd + addresses.length * 16);
  out.set(query.subarray(0, questionEnd));
  // QR, RD copied, RA (a recursive answer), the rcode; one question, the answers, nothing else.
  writeU16(out, 2, 0x8080 | (query[2] & 0x01) << 8 | rcode);
  writeU16(out, 4, 1);
  writeU16(out, 6, addresses.length);
  writeU16(out, 8, 0);
  writeU16(out, 10, 0);
  let i = questionEnd;
  for (const address of addresses) {
    writeU16(out, i, 0xc00c); // the name: a pointer to the question's
    writeU16(out, i + 2, DNS_TYPE_A);
    writeU16(out, i + 4, DNS_CLASS_IN);
    writeU32(out, i + 6, ttlSeconds);
    writeU16(out, i + 10, 4);
    writeU32(out, i + 12, address);
    i += 16;
  }
  return out;
}
