import { describe, expect, it } from 'vitest';
import { buildIcmp, echoReply, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, parseIcmp } from '../../src/net/icmp.ts';

describe('ICMP', () => {
  it('answers an echo request with the same identifier, sequence and data', () => {
    const request = buildIcmp({ type: ICMP_ECHO_REQUEST, code: 0, body: new Uint8Array([0x12, 0x34, 0x00, 0x07, 0xaa, 0xbb, 0xcc]) });
    const reply = parseIcmp(echoReply(parseIcmp(request)!)!)!;
    expect(reply.type).toBe(ICMP_ECHO_REPLY);
    expect(Array.from(reply.body)).toEqual([0x12, 0x34, 0x00, 0x07, 0xaa, 0xbb, 0xcc]);
  });

  it('refuses bad checksums and does not answer replies', () => {
    const request = buildIcmp({ type: ICMP_ECHO_REQUEST, code: 0, body: new Uint8Array(8) });
    request[8] = 1;
    expect(parseIcmp(request)).toBeUndefined();
    const reply = parseIcmp(buildIcmp({ type: ICMP_ECHO_REPLY, code: 0, body: new Uint8Array(8) }))!;
    expect(echoReply(reply)).toBeUndefined();
  });
});
