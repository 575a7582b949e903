import { describe, expect, it } from 'vitest';
import { buildDnsQuery, DnsServer, parseDnsResponse, RCODE_FORMERR, RCODE_NOERROR, RCODE_NXDOMAIN } from '../../src/net/dns.ts';
import { parseIpv4Address } from '../../src/net/ipv4.ts';

function ask(server: DnsServer, query: Uint8Array) {
  const answers: Uint8Array[] = [];
  server.handle(query, (r) => answers.push(r));
  return answers;
}

describe('DnsServer', () => {
  const hosts = new Map([['gateway.webhvm', parseIpv4Address('10.0.2.2')!], ['boot.example', parseIpv4Address('10.0.2.50')!]]);

  it('answers A queries from its table, case-insensitively, echoing the id', () => {
    const s = new DnsServer({ hosts });
    const [r] = ask(s, buildDnsQuery(0x4242, 'Boot.Example'));
    expect(parseDnsResponse(r)).toEqual({ id: 0x4242, rcode: RCODE_NOERROR, addresses: [parseIpv4Address('10.0.2.50')] });
    expect(r[2] & 0x04).toBe(0x04); // authoritative
    expect(r[2] & 0x01).toBe(0x01); // recursion desired copied
  });

  it('says NXDOMAIN for unknown names and NODATA for other types of known names', () => {
    const s = new DnsServer({ hosts });
    expect(parseDnsResponse(ask(s, buildDnsQuery(1, 'nowhere.example'))[0])).toMatchObject({ rcode: RCODE_NXDOMAIN, addresses: [] });
    expect(parseDnsResponse(ask(s, buildDnsQuery(2, 'boot.example', 28))[0])).toMatchObject({ rcode: RCODE_NOERROR, addresses: [] });
    expect(s.stats).toMatchObject({ answered: 1, notFound: 1 });
  });

  it('hands unknown names to a relay, which answers later', () => {
    const later: (() => void)[] = [];
    const s = new DnsServer({
      hosts,
      relay: (query, respond) => {
        later.push(() => respond(query.slice()));
        return true;
      },
    });
    const answers: Uint8Array[] = [];
    s.handle(buildDnsQuery(7, 'www.example.org'), (r) => answers.push(r));
    expect(answers.length).toBe(0);
    later[0]();
    expect(answers.length).toBe(1);
    expect(s.stats.relayed).toBe(1);
  });

  it('answers FORMERR to garbage with a header and ignores shorter garbage and responses', () => {
    const s = new DnsServer({ hosts });
    const bad = new Uint8Array(16);
    bad[1] = 9;
    bad[5] = 1;
    bad[12] = 200; // a label longer than 63
    expect(parseDnsResponse(ask(s, bad)[0])).toMatchObject({ id: 9, rcode: RCODE_FORMERR });
    expect(ask(s, new Uint8Array(5))).toEqual([]);
    const response = buildDnsQuery(3, 'boot.example');
    response[2] |= 0x80;
    expect(ask(s, response)).toEqual([]);
    expect(s.stats.malformed).toBe(3);
  });
});
