/**
 * A DHCP server (RFC 2131, options from RFC 2132) that leases addresses from one subnet: a
 * fixed pool, one address per client hardware address, stable for the life of the server.
 * It answers DISCOVER with OFFER, REQUEST with ACK (or NAK when the client asks for an address
 * that is not its own), INFORM with ACK, and takes back addresses on RELEASE and DECLINE.
 * Replies carry the subnet mask, router, DNS servers, domain name, lease times, and for PXE the
 * next server (siaddr) and boot file name. Replies are always sent to the broadcast address,
 * which every client accepts (as QEMU's user-mode network does).
 *
 * Left out: lease expiry (leases never time out; the pool is the bound), relay agents (giaddr),
 * option overloading of the sname/file fields, and client identifiers (option 61): clients are
 * told apart by hardware address.
 */
import { formatIpv4Address, readU16, readU32, writeU16, writeU32 } from './ipv4.ts';
import { macKey } from './ethernet.ts';

export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;

export const DHCP_DISCOVER = 1;
export const DHCP_OFFER = 2;
export const DHCP_REQUEST = 3;
export const DHCP_DECLINE = 4;
export const DHCP_ACK = 5;
export const DHCP_NAK = 6;
export const DHCP_RELEASE = 7;
export const DHCP_INFORM = 8;

const MAGIC_COOKIE = 0x63825363;
const FIXED_BYTES = 236;
const OPTION_PAD = 0;
const OPTION_END = 255;
export const OPTION_SUBNET_MASK = 1;
export const OPTION_ROUTER = 3;
export const OPTION_DNS = 6;
export const OPTION_HOST_NAME = 12;
export const OPTION_DOMAIN_NAME = 15;
export const OPTION_BROADCAST = 28;
export const OPTION_REQUESTED_ADDRESS = 50;
export const OPTION_LEASE_TIME = 51;
export const OPTION_MESSAGE_TYPE = 53;
export const OPTION_SERVER_ID = 54;
export const OPTION_RENEWAL_TIME = 58;
export const OPTION_REBINDING_TIME = 59;
export const OPTION_TFTP_SERVER = 66;
export const OPTION_BOOT_FILE = 67;

export interface DhcpMessage {
  op: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: number;
  yiaddr: number;
  siaddr: number;
  giaddr: number;
  chaddr: Uint8Array;
  file: string;
  options: Map<number, Uint8Array>;
}

/** Parses a BOOTP/DHCP message; undefined when truncated or without the magic cookie. */
export function parseDhcp(data: Uint8Array): DhcpMessage | undefined {
  if (data.length < FIXED_BYTES + 4 || readU32(data, FIXED_BYTES) !== MAGIC_COOKIE) return undefined;
  if (data[1] !== 1 || data[2] !== 6) return undefined; // Ethernet hardware addresses only
  const options = new Map<number, Uint8Array>();
  let i = FIXED_BYTES + 4;
  while (i < data.length) {
    const code = data[i++];
    if (code === OPTION_PAD) continue;
    if (code === OPTION_END) break;
    if (i >= data.length) return undefined;
    const length = data[i++];
    if (i + length > data.length) return undefined;
    options.set(code, data.slice(i, i + length));
    i += length;
  }
  let fileEnd = 108;
  while (fileEnd < 236 && data[fileEnd] !== 0) fileEnd++;
  return {
    op: data[0],
    xid: readU32(data, 4),
    secs: readU16(data, 8),
    flags: readU16(data, 10),
    ciaddr: readU32(data, 12),
    yiaddr: readU32(data, 16),
    siaddr: readU32(data, 20),
    giaddr: readU32(data, 24),
    chaddr: data.slice(28, 34),
    file: String.fromCharCode(...data.subarray(108, fileEnd)),
    options,
  };
}

/** Builds a message; options are written in map order, then END, padded to the BOOTP 300 bytes. */
export function buildDhcp(m: DhcpMessage): Uint8Array {
  let optionBytes = 1;
  for (const value of m.options.values()) optionBytes += 2 + Math.min(255, value.length);
  const out = new Uint8Array(Math.max(300, FIXED_BYTES + 4 + optionBytes));
  out[0] = m.op;
  out[1] = 1;
  out[2] = 6;
  writeU32(out, 4, m.xid);
  writeU16(out, 8, m.secs);
  writeU16(out, 10, m.flags);
  writeU32(out, 12, m.ciaddr);
  writeU32(out, 16, m.yiaddr);
  writeU32(out, 20, m.siaddr);
  writeU32(out, 24, m.giaddr);
  out.set(m.chaddr.subarray(0, 6), 28);
  for (let i = 0; i < Math.min(127, m.file.length); i++) out[108 + i] = m.file.charCodeAt(i) & 0xff;
  writeU32(out, FIXED_BYTES, MAGIC_COOKIE);
  let i = FIXED_BYTES + 4;
  for (const [code, value] of m.options) {
    const v = value.subarray(0, 255);
    out[i++] = code;
    out[i++] = v.length;
    out.set(v, i);
    i += v.length;
  }
  out[i] = OPTION_END;
  return out;
}

export interface DhcpServerConfig {
  /** The server's own address (option 54); the gateway's address. */
  serverAddress: number;
  subnetMask: number;
  router: number;
  dnsServers: number[];
  /** First address of the pool and how many addresses it holds. */
  poolStart: number;
  poolSize: number;
  leaseSeconds: number;
  domainName?: string;
  /** PXE: the TFTP server (siaddr and option 66) and the boot file (file field and option 67). */
  nextServer?: number;
  bootFile?: string;
}

export interface DhcpStats {
  offers: number;
  acks: number;
  naks: number;
  /** DISCOVERs not answered because every pool address is taken. */
  poolExhausted: number;
  malformed: number;
}

export class DhcpServer {
  readonly stats: DhcpStats = { offers: 0, acks: 0, naks: 0, poolExhausted: 0, malformed: 0 };
  /** Client (hardware address key) to leased address. */
  private readonly leases = new Map<number, number>();
  /** Addresses handed out or declined, to the client key holding them (-1: declined). */
  private readonly taken = new Map<number, number>();

  constructor(readonly config: DhcpServerConfig) {}

  /** The address leased to `mac`, if any. */
  leaseOf(mac: Uint8Array): number | undefined {
    return this.leases.get(macKey(mac));
  }

  /** Answers one client message; undefined when there is nothing to send back. */
  handle(data: Uint8Array): Uint8Array | undefined {
    const m = parseDhcp(data);
    const type = m?.options.get(OPTION_MESSAGE_TYPE)?.[0];
    if (!m || m.op !== 1 || type === undefined) {
      this.stats.malformed++;
      return undefined;
    }
    const client = macKey(m.chaddr);
    const requested = optionAddress(m, OPTION_REQUESTED_ADDRESS);
    const serverId = optionAddress(m, OPTION_SERVER_ID);
    switch (type) {
      case DHCP_DISCOVER: {
        const address = this.allocate(client, requested);
        if (address === undefined) {
          this.stats.poolExhausted++;
          return undefined;
        }
        this.stats.offers++;
        return this.reply(m, DHCP_OFFER, address);
      }
      case DHCP_REQUEST: {
        // A REQUEST naming another server means the client took that server's offer.
        if (serverId !== undefined && serverId !== this.config.serverAddress) return undefined;
        const wanted = requested ?? m.ciaddr;
        const own = this.leases.get(client);
        const address = wanted === own ? own : this.inPool(wanted) && !this.taken.has(wanted) ? this.allocate(client, wanted) : undefined;
        if (address === undefined || address !== wanted) {
          this.stats.naks++;
          return this.reply(m, DHCP_NAK, 0);
        }
        this.stats.acks++;
        return this.reply(m, DHCP_ACK, address);
      }
      case DHCP_INFORM:
        this.stats.acks++;
        return this.reply(m, DHCP_ACK, 0);
      case DHCP_RELEASE: {
        const own = this.leases.get(client);
        if (own !== undefined && own === m.ciaddr) {
          this.leases.delete(client);
          this.taken.delete(own);
        }
        return undefined;
      }
      case DHCP_DECLINE: {
        // The client found the address in use: never hand it out again.
        const own = this.leases.get(client);
        if (own !== undefined && own === requested) {
          this.leases.delete(client);
          this.taken.set(own, -1);
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }

  private inPool(address: number): boolean {
    return address >= this.config.poolStart && address < this.config.poolStart + this.config.poolSize;
  }

  private allocate(client: number, preferred: number | undefined): number | undefined {
    const own = this.leases.get(client);
    if (own !== undefined) return own;
    let address: number | undefined;
    if (preferred !== undefined && this.inPool(preferred) && !this.taken.has(preferred)) address = preferred;
    for (let i = 0; address === undefined && i < this.config.poolSize; i++) {
      const candidate = (this.config.poolStart + i) >>> 0;
      if (!this.taken.has(candidate)) address = candidate;
    }
    if (address === undefined) return undefined;
    this.leases.set(client, address);
    this.taken.set(address, client);
    return address;
  }

  private reply(request: DhcpMessage, type: number, yiaddr: number): Uint8Array {
    const c = this.config;
    const options = new Map<number, Uint8Array>();
    options.set(OPTION_MESSAGE_TYPE, new Uint8Array([type]));
    options.set(OPTION_SERVER_ID, addressBytes(c.serverAddress));
    if (type !== DHCP_NAK) {
      if (type !== DHCP_ACK || yiaddr !== 0) {
        options.set(OPTION_LEASE_TIME, u32Bytes(c.leaseSeconds));
        options.set(OPTION_RENEWAL_TIME, u32Bytes(Math.floor(c.leaseSeconds / 2)));
        options.set(OPTION_REBINDING_TIME, u32Bytes(Math.floor((c.leaseSeconds * 7) / 8)));
      }
      options.set(OPTION_SUBNET_MASK, addressBytes(c.subnetMask));
      options.set(OPTION_ROUTER, addressBytes(c.router));
      options.set(OPTION_BROADCAST, addressBytes((c.router & c.subnetMask) | (~c.subnetMask >>> 0)));
      if (c.dnsServers.length) options.set(OPTION_DNS, concat(c.dnsServers.map(addressBytes)));
      if (c.domainName) options.set(OPTION_DOMAIN_NAME, ascii(c.domainName));
      if (c.nextServer !== undefined) options.set(OPTION_TFTP_SERVER, ascii(formatIpv4Address(c.nextServer)));
      if (c.bootFile) options.set(OPTION_BOOT_FILE, ascii(c.bootFile));
    }
    return buildDhcp({
      op: 2,
      xid: request.xid,
      secs: 0,
      flags: request.flags,
      ciaddr: type === DHCP_NAK ? 0 : request.ciaddr,
      yiaddr,
      siaddr: type === DHCP_NAK ? 0 : (c.nextServer ?? 0),
      giaddr: request.giaddr,
      chaddr: request.chaddr,
      file: type === DHCP_NAK ? '' : (c.bootFile ?? ''),
      options,
    });
  }
}

function optionAddress(m: DhcpMessage, code: number): number | undefined {
  const v = m.options.get(code);
  return v && v.length === 4 ? readU32(v, 0) : undefined;
}

function addressBytes(address: number): Uint8Array {
  const b = new Uint8Array(4);
  writeU32(b, 0, address);
  return b;
}

const u32Bytes = addressBytes;

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0) & 0x7f);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.length;
  }
  return out;
}
