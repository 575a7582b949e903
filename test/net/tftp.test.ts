import { describe, expect, it } from 'vitest';
import { TftpServer, TFTP_ERROR_ACCESS, TFTP_ERROR_NOT_FOUND, TFTP_ERROR_UNKNOWN_TID, TFTP_PORT } from '../../src/net/tftp.ts';
import type { UdpBinder, UdpEndpoint, UdpHandler } from '../../src/net/udp-service.ts';
import { parseIpv4Address } from '../../src/net/ipv4.ts';
import { CLIENT_MAC, gatewayNetwork, udpFrame } from './helpers.ts';

/** A UDP binder without a network: what the server sends lands in `sent`. */
function loopback() {
  const handlers = new Map<number, UdpHandler>();
  const sent: { from: number; to: UdpEndpoint; payload: Uint8Array }[] = [];
  const binder: UdpBinder = {
    bind: (port, h) => (handlers.has(port) ? false : (handlers.set(port, h), true)),
    unbind: (port) => void handlers.delete(port),
    sendTo: (from, to, payload) => void sent.push({ from, to, payload: payload.slice() }),
  };
  const client: UdpEndpoint = { address: 0x0a00020f, port: 2070 };
  const send = (port: number, payload: Uint8Array, from = client) => handlers.get(port)?.(payload, from, port);
  return { binder, sent, client, send, handlers };
}

const text = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const rrq = (name: string, ...options: string[]) => new Uint8Array([0, 1, ...text(`${name}\0octet\0`), ...text(options.map((o) => `${o}\0`).join(''))]);
const ack = (block: number) => new Uint8Array([0, 4, block >> 8, block & 0xff]);
const op = (p: Uint8Array) => (p[0] << 8) | p[1];
const block = (p: Uint8Array) => (p[2] << 8) | p[3];

describe('TftpServer', () => {
  it('serves a file in 512-byte blocks from a new port, ending with a short block', () => {
    const file = Uint8Array.from({ length: 1300 }, (_, i) => (i * 7) & 0xff);
    const { binder, sent, send, client, handlers } = loopback();
    const server = new TftpServer({ udp: binder, files: new Map([['pxelinux.0', file]]) });
    send(TFTP_PORT, rrq('/pxelinux.0'));
    const port = sent[0].from;
    expect(port).not.toBe(TFTP_PORT);
    expect(sent[0].to).toEqual(client);
    const data: Uint8Array[] = [];
    for (let n = 1; ; n++) {
      const last = sent[sent.length - 1].payload;
      expect(op(last)).toBe(3);
      expect(block(last)).toBe(n);
      data.push(last.subarray(4));
      send(port, ack(n));
      if (last.length - 4 < 512) break;
    }
    expect(data.map((d) => d.length)).toEqual([512, 512, 276]);
    expect(Uint8Array.from(data.flatMap((d) => Array.from(d)))).toEqual(file);
    expect(server.stats.completed).toBe(1);
    expect(handlers.has(port)).toBe(false);
  });

  it('acknowledges blksize and tsize with an OACK and sends an empty last block for exact multiples', () => {
    const file = new Uint8Array(2048).fill(1);
    const { binder, sent, send } = loopback();
    new TftpServer({ udp: binder, files: new Map([['f', file]]) });
    send(TFTP_PORT, rrq('f', 'blksize', '1024', 'tsize', '0', 'bogus', '1'));
    const oack = sent[0].payload;
    expect(op(oack)).toBe(6);
    expect(String.fromCharCode(...oack.subarray(2))).toBe('blksize\u00001024\u0000tsize\u00002048\u0000');
    const port = sent[0].from;
    send(port, ack(0));
    send(port, ack(1));
    send(port, ack(2));
    expect(sent.slice(1).map((s) => s.payload.length - 4)).toEqual([1024, 1024, 0]);
  });

  it('resends a block when the client repeats its previous ACK, refuses strangers with an error', () => {
    const { binder, sent, send } = loopback();
    new TftpServer({ udp: binder, files: new Map([['f', new Uint8Array(1000)]]) });
    send(TFTP_PORT, rrq('f'));
    const port = sent[0].from;
    send(port, ack(1));
    send(port, ack(1)); // the client did not get block 2
    expect(sent.map((s) => block(s.payload))).toEqual([1, 2, 2]);
    send(port, ack(2), { address: 0x0a000210, port: 2070 });
    const error = sent[sent.length - 1];
    expect(op(error.payload)).toBe(5);
    expect(block(error.payload)).toBe(TFTP_ERROR_UNKNOWN_TID);
  });

  it('answers missing files and write requests with errors', () => {
    const { binder, sent, send } = loopback();
    const server = new TftpServer({ udp: binder, files: new Map() });
    send(TFTP_PORT, rrq('missing'));
    send(TFTP_PORT, new Uint8Array([0, 2, ...text('x\0octet\0')]));
    send(TFTP_PORT, new Uint8Array([0, 1, 65]));
    expect(sent.map((s) => [op(s.payload), block(s.payload)])).toEqual([[5, TFTP_ERROR_NOT_FOUND], [5, TFTP_ERROR_ACCESS], [5, 4]]);
    expect(server.stats).toMatchObject({ notFound: 1, refused: 1, malformed: 1 });
  });

  it('reads a file through the gateway over UDP/IP/Ethernet', () => {
    const net = gatewayNetwork();
    const file = Uint8Array.from({ length: 700 }, (_, i) => i & 0xff);
    new TftpServer({ udp: net.gateway, files: new Map([['boot/kernel', file]]) });
    const me = parseIpv4Address('10.0.2.15')!;
    const to = (port: number, payload: Uint8Array) => udpFrame({ source: me, destination: net.gateway.address, sourcePort: 3333, destinationPort: port, payload, to: net.gateway.mac });
    net.client.send(to(TFTP_PORT, rrq('boot/kernel')));
    let [reply] = net.take();
    expect(reply.destination).toEqual(CLIENT_MAC);
    expect(reply.udp!.destinationPort).toBe(3333);
    const port = reply.udp!.sourcePort;
    const first = reply.udp!.payload.slice(4);
    net.client.send(to(port, ack(1)));
    [reply] = net.take();
    const second = reply.udp!.payload.slice(4);
    net.client.send(to(port, ack(2)));
    expect(net.take()).toEqual([]);
    expect(Uint8Array.from([...first, ...second])).toEqual(file);
  });

  it('looks files up through a function, refuses names that climb out, and survives a failing source', () => {
    const { binder, sent, send } = loopback();
    const asked: string[] = [];
    const server = new TftpServer({
      udp: binder,
      files: (path) => {
        asked.push(path);
        if (path === 'broken') throw new Error('disk gone');
        return path === 'pxe/boot.ipxe' ? text('#!ipxe\n') : undefined;
      },
    });
    send(TFTP_PORT, rrq('/pxe/boot.ipxe'));
    expect(op(sent[0].payload)).toBe(3);
    expect(Array.from(sent[0].payload.subarray(4))).toEqual(Array.from(text('#!ipxe\n')));
    send(TFTP_PORT, rrq('pxe/../../etc/passwd'));
    send(TFTP_PORT, rrq('broken'));
    expect(sent.slice(1).map((s) => [op(s.payload), block(s.payload)])).toEqual([[5, TFTP_ERROR_ACCESS], [5, TFTP_ERROR_NOT_FOUND]]);
    expect(asked).toEqual(['pxe/boot.ipxe', 'broken']);
    expect(server.stats).toMatchObject({ requests: 3, refused: 1, notFound: 1 });
  });

  it('is served by the gateway when the gateway is given files', () => {
    const net = gatewayNetwork({ tftp: new Map([['k', new Uint8Array([1, 2, 3])]]) });
    const me = parseIpv4Address('10.0.2.15')!;
    net.client.send(udpFrame({ source: me, destination: net.gateway.address, sourcePort: 3333, destinationPort: TFTP_PORT, payload: rrq('k'), to: net.gateway.mac }));
    const [reply] = net.take();
    expect(Array.from(reply.udp!.payload)).toEqual([0, 3, 0, 1, 1, 2, 3]);
    expect(net.gateway.tftp!.stats.requests).toBe(1);
    expect(gatewayNetwork().gateway.tftp).toBeUndefined();
  });
});
