/**
 * `vif` entries: comma-separated KEY=VALUE settings of one network card
 * (xl-network-configuration(5)), e.g. `type=ioemu, bridge=xenbr0, mac=00:16:3e:7e:f3:15, model=rtl8139`.
 * Without `mac`, the address is generated in Xen's 00:16:3e prefix from a hash of the VM name
 * and the card's index: the same file always gives the same address, and no randomness is used.
 */
import type { NetworkCard } from './domain-config.ts';
import type { SourcePosition } from './diagnostics.ts';
import type { EntryReporter } from './disk.ts';

const XEN_SETTINGS_IGNORED = new Set([
  'ip', 'script', 'vifname', 'backend', 'rate', 'gatewaydev', 'accel', 'powerup', 'devid', 'forwarddev', 'mtu', 'trusted', 'vlan', 'uuid',
]);
const OTHER_MODELS = /^(e1000|ne2k_pci|ne2k_isa|pcnet|i82551|i82557b|i82559er|virtio|virtio-net|virtio-net-pci|vmxnet3|rtl8029)$/i;

/** FNV-1a over UTF-16 code units: small, stable, and the same in every JavaScript engine. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The MAC Xen's toolstack would make up, made reproducible: 00:16:3e, then 23 bits from a hash
 * of the name and index (xl also keeps the fourth byte below 0x80).
 */
export function generateMac(vmName: string, index: number): string {
  const h = fnv1a32(`${vmName}\u0000vif${index}`);
  const bytes = [0x00, 0x16, 0x3e, (h >>> 16) & 0x7f, (h >>> 8) & 0xff, h & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Parses one entry; returns undefined after reporting an error. */
export function parseVifEntry(
  spec: string,
  index: number,
  vmName: string,
  source: SourcePosition,
  report: EntryReporter,
): NetworkCard | undefined {
  let mac: string | undefined;
  let bridge = 'xenbr0';
  let type: 'ioemu' | 'vif' = 'ioemu';
  let ok = true;
  let start = 0;
  for (let i = 0; i <= spec.length; i++) {
    if (i < spec.length && spec[i] !== ',') continue;
    const raw = spec.slice(start, i);
    const offset = start + (raw.length - raw.trimStart().length);
    const part = raw.trim();
    start = i + 1;
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) {
      report('error', `'${part}': expected KEY=VALUE such as bridge=xenbr0 or mac=00:16:3e:12:34:56`, offset);
      ok = false;
      continue;
    }
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim();
    const valueOffset = offset + eq + 1 + (part.slice(eq + 1).length - part.slice(eq + 1).trimStart().length);
    if (key === 'mac') {
      if (!/^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}$/i.test(value)) {
        report('error', `mac '${value}': expected six hexadecimal bytes separated by colons, such as 00:16:3e:7e:f3:15`, valueOffset);
        ok = false;
        continue;
      }
      const bytes = value.split(':').map((b) => parseInt(b, 16));
      if (bytes[0]! & 1) {
        report('error', `mac '${value}' is a multicast address (lowest bit of the first byte set): a network card needs a unicast address`, valueOffset);
        ok = false;
        continue;
      }
      mac = bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
    } else if (key === 'bridge') {
      if (value === '') {
        report('error', 'bridge: expected the name of a virtual switch, such as xenbr0', valueOffset);
        ok = false;
      } else bridge = value;
    } else if (key === 'model') {
      if (value.toLowerCase() !== 'rtl8139') {
        const known = OTHER_MODELS.test(value) ? `WebHVM does not emulate the ${value} yet` : `'${value}' is not a network card WebHVM knows`;
        report('error', `model '${value}': ${known}; only rtl8139 is supported now (the default: leave model out)`, valueOffset);
        ok = false;
      }
    } else if (key === 'type') {
      if (value === 'ioemu') type = 'ioemu';
      else if (value === 'vif' || value === 'netfront') {
        type = 'vif';
        report('warning', `type=${value} asks Xen for a paravirtual-only card; WebHVM has no paravirtual network and emulates an RTL8139`, valueOffset);
      } else {
        report('error', `type '${value}': expected ioemu (an emulated card) or vif`, valueOffset);
        ok = false;
      }
    } else if (XEN_SETTINGS_IGNORED.has(key)) {
      report('note', `${key}= is a Xen host-side setting and is ignored`, offset);
    } else {
      report('warning', `unknown vif setting '${key}': ignored`, offset);
    }
  }
  if (!ok) return undefined;
  return {
    index,
    mac: mac ?? generateMac(vmName, index),
    macGenerated: mac === undefined,
    bridge,
    model: 'rtl8139',
    type,
    spec,
    source,
  };
}
