/**
 * A read-only TFTP server (RFC 1350) serving files from a map or a lookup function, for network
 * boot (PXE).
 * Each read request gets its own server port (transfer identifier); files go out in octet mode
 * (netascii requests get the same bytes). The block size (RFC 2348) and transfer size
 * (RFC 2349) options are honoured and acknowledged with an OACK; the timeout option is echoed.
 * Block numbers roll over to 0 after 65535, as large-file clients expect.
 *
 * The virtual network loses nothing on its own, so the server keeps no retransmission timer:
 * when a client times out and repeats its last ACK, the server answers with the next block
 * again. Write requests are refused (access violation).
 */
import type { UdpBinder, UdpEndpoint } from './udp-service.ts';

export const TFTP_PORT = 69;
const OP_RRQ = 1;
const OP_WRQ = 2;
const OP_DATA = 3;
const OP_ACK = 4;
const OP_ERROR = 5;
const OP_OACK = 6;
export const TFTP_ERROR_NOT_FOUND = 1;
export const TFTP_ERROR_ACCESS = 2;
export const TFTP_ERROR_ILLEGAL = 4;
export const TFTP_ERROR_UNKNOWN_TID = 5;
export const TFTP_ERROR_OPTION = 8;

const DEFAULT_BLOCK = 512;
const MAX_BLOCK = 1468; // the largest block that fits a 1500-byte MTU
const MAX_SESSIONS = 64;
const FIRST_TRANSFER_PORT = 49152;

/**
 * What the server serves: paths (without a leading slash) to contents, or a function that looks
 * a path up (undefined: not found). The function is called once per read request and must answer
 * at once: the guest's retransmission timers run in guest time, which does not wait for the host.
 */
export type TftpFiles = Map<string, Uint8Array> | ((path: string) => Uint8Array | undefined);

export interface TftpServerOptions {
  udp: UdpBinder;
  files: TftpFiles;
}

export interface TftpStats {
  requests: number;
  completed: number;
  notFound: number;
  refused: number;
  malformed: number;
}

interface Session {
  client: UdpEndpoint;
  port: number;
  file: Uint8Array;
  blockSize: number;
  /** Last block sent (0 while an OACK waits for its acknowledgement). */
  block: number;
  /** Number of blocks in the file, counting a final short (possibly empty) one. */
  blocks: number;
}

export class TftpServer {
  readonly stats: TftpStats = { requests: 0, completed: 0, notFound: 0, refused: 0, malformed: 0 };
  private readonly udp: UdpBinder;
  private readonly files: TftpFiles;
  private readonly sessions = new Map<number, Session>();
  private nextPort = FIRST_TRANSFER_PORT;

  constructor(options: TftpServerOptions) {
    this.udp = options.udp;
    this.files = options.files;
    this.udp.bind(TFTP_PORT, (payload, from) => this.request(payload, from));
  }

  /** Transfers in progress. */
  get activeTransfers(): number {
    return this.sessions.size;
  }

  private request(payload: Uint8Array, from: UdpEndpoint): void {
    const op = payload.length >= 2 ? (payload[0] << 8) | payload[1] : -1;
    if (op === OP_WRQ) {
      this.stats.refused++;
      return this.error(TFTP_PORT, from, TFTP_ERROR_ACCESS, 'read-only server');
    }
    const strings = op === OP_RRQ ? splitStrings(payload.subarray(2)) : undefined;
    if (!strings || strings.length < 2) {
      this.stats.malformed++;
      return this.error(TFTP_PORT, from, TFTP_ERROR_ILLEGAL, 'expected a read request');
    }
    this.stats.requests++;
    const path = strings[0].replace(/\\/g, '/').replace(/^\/+/, '');
    if (path.split('/').includes('..')) {
      this.stats.refused++;
      return this.error(TFTP_PORT, from, TFTP_ERROR_ACCESS, `${path}: outside the served files`);
    }
    const file = this.lookUp(path);
    if (!file) {
      this.stats.notFound++;
      return this.error(TFTP_PORT, from, TFTP_ERROR_NOT_FOUND, `${path}: file not found`);
    }
    const accepted: [string, string][] = [];
    let blockSize = DEFAULT_BLOCK;
    for (let i = 2; i + 1 < strings.length; i += 2) {
      const name = strings[i].toLowerCase();
      const value = strings[i + 1];
      if (name === 'blksize' && /^\d+$/.test(value) && Number(value) >= 8) {
        blockSize = Math.min(MAX_BLOCK, Number(value));
        accepted.push(['blksize', String(blockSize)]);
      } else if (name === 'tsize') {
        accepted.push(['tsize', String(file.length)]);
      } else if (name === 'timeout' && /^\d+$/.test(value) && Number(value) >= 1 && Number(value) <= 255) {
        accepted.push(['timeout', value]);
      }
    }
    const port = this.allocatePort();
    if (port === undefined) return this.error(TFTP_PORT, from, TFTP_ERROR_ILLEGAL, 'too many transfers');
    const session: Session = { client: { ...from }, port, file, blockSize, block: 0, blocks: Math.floor(file.length / blockSize) + 1 };
    this.sessions.set(port, session);
    this.udp.bind(port, (p, f) => this.transfer(session, p, f));
    if (accepted.length) this.udp.sendTo(port, session.client, oack(accepted));
    else this.sendBlock(session, 1);
  }

  private lookUp(path: string): Uint8Array | undefined {
    if (typeof this.files !== 'function') return this.files.get(path);
    try {
      return this.files(path);
    } catch {
      return undefined; // a source that fails is a file that is not there
    }
  }

  private transfer(s: Session, payload: Uint8Array, from: UdpEndpoint): void {
    if (from.address !== s.client.address || from.port !== s.client.port) {
      return this.error(s.port, from, TFTP_ERROR_UNKNOWN_TID, 'unknown transfer id');
    }
    const op = payload.length >= 2 ? (payload[0] << 8) | payload[1] : -1;
    if (op === OP_ERROR) return this.close(s);
    if (op !== OP_ACK || payload.length < 4) {
      this.stats.malformed++;
      this.error(s.port, from, TFTP_ERROR_ILLEGAL, 'expected an acknowledgement');
      return this.close(s);
    }
    const acked = (payload[2] << 8) | payload[3];
    if (acked === (s.block & 0xffff)) {
      if (s.block >= s.blocks) {
        this.stats.completed++;
        return this.close(s);
      }
      this.sendBlock(s, s.block + 1);
    } else if (acked === ((s.block - 1) & 0xffff) && s.block > 0) {
      this.sendBlock(s, s.block); // the client missed the block and repeats its previous ACK
    }
  }

  private sendBlock(s: Session, block: number): void {
    s.block = block;
    const start = (block - 1) * s.blockSize;
    const data = s.file.subarray(start, Math.min(s.file.length, start + s.blockSize));
    const out = new Uint8Array(4 + data.length);
    out[1] = OP_DATA;
    out[2] = (block >> 8) & 0xff;
    out[3] = block & 0xff;
    out.set(data, 4);
    this.udp.sendTo(s.port, s.client, out);
  }

  private close(s: Session): void {
    this.udp.unbind(s.port);
    this.sessions.delete(s.port);
  }

  private allocatePort(): number | undefined {
    if (this.sessions.size >= MAX_SESSIONS) {
      // Drop the oldest transfer: its client has most likely given up.
      const oldest = this.sessions.values().next().value;
      if (oldest) this.close(oldest);
    }
    for (let tries = 0; tries < 16384; tries++) {
      const port = this.nextPort;
      this.nextPort = port >= 65535 ? FIRST_TRANSFER_PORT : port + 1;
      if (!this.sessions.has(port) && this.udp.bind(port, () => {})) {
        this.udp.unbind(port);
        return port;
      }
    }
    return undefined;
  }

  private error(fromPort: number, to: UdpEndpoint, code: number, message: string): void {
    const out = new Uint8Array(5 + message.length);
    out[1] = OP_ERROR;
    out[3] = code;
    for (let i = 0; i < message.length; i++) out[4 + i] = message.charCodeAt(i) & 0x7f;
    this.udp.sendTo(fromPort, to, out);
  }
}

function oack(options: [string, string][]): Uint8Array {
  const text = options.map(([k, v]) => `${k}\0${v}\0`).join('');
  const out = new Uint8Array(2 + text.length);
  out[1] = OP_OACK;
  for (let i = 0; i < text.length; i++) out[2 + i] = text.charCodeAt(i);
  return out;
}

/** NUL-terminated strings; undefined when the last one is not terminated. */
function splitStrings(data: Uint8Array): string[] | undefined {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0) {
      out.push(String.fromCharCode(...data.subarray(start, i)));
      start = i + 1;
    }
  }
  return start === data.length ? out : undefined;
}
