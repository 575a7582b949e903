/**
 * The whole machine into one snapshot file and back: every vCPU's CPU state block and where the
 * vCPU scheduler stands (which vCPU's state the core holds, which one the next round starts
 * with), guest RAM and video memory (sparse pages, gzip), every device's named, versioned state
 * (the local APICs among them), guest time, the disks' copy-on-write overlays, and whatever the
 * caller adds (the run's serial record). Format 1 files (one vCPU, no scheduler section) still
 * restore.
 *
 * A snapshot is taken between run slices with no disk request in flight (the caller runs the
 * machine on until then), so in-flight I/O never needs saving. Pending clock events are not
 * saved either: every device re-arms its timers from its own state in loadState, into a clock
 * cleared first. Memory mappings (PAM shadowing, the VGA linear framebuffer) are reapplied by
 * the host bridge and PCI bus as their states load; the BIOS ROM comes from the configuration.
 *
 * Restore goes into a fresh Machine built from the same configuration. Everything is checked
 * before the machine is touched (file checksums, format version, configuration hash, firmware,
 * device names and state versions); if a load still fails, the machine must be thrown away.
 */
import type { Machine, MachineSetup } from '../machine/machine.ts';
import type { Device, DeviceState } from '../bus/device.ts';
import { hashBytes } from '../machine/fingerprint.ts';
import { encodeState, decodeState } from './state-codec.ts';
import { packPages, unpackPages } from './compression.ts';
import { readSnapshotFile, writeSnapshotFile, SnapshotError, type SnapshotSectionInput } from './container.ts';

/** A disk backend whose copy-on-write blocks can be saved and restored (CowOverlay and the persisted overlay). */
export interface OverlayBlocks {
  readonly blockSize: number;
  blocks(): [number, Uint8Array][];
  loadBlocks(blocks: Iterable<[number, Uint8Array]>): void | Promise<void>;
}

export interface SnapshotExtras {
  /** Plain data saved beside the machine (the run's serial record, the input log position). */
  [name: string]: unknown;
}

/** Interrupt controllers load last, so the line levels other devices re-drive cannot add requests. */
const LOAD_LAST = /^(pic|io-?apic|local-?apic|lapic)/;

/** What must match between the machine that saved and the one that restores. */
export function configurationHash(setup: MachineSetup): string {
  const identity = {
    name: setup.name,
    ramMiB: setup.ramMiB,
    cpuCount: setup.cpuCount,
    acpi: setup.acpi,
    apic: setup.apic,
    pae: setup.pae,
    boot: setup.boot,
    ide: setup.ide.map((s) => (s ? { kind: s.kind, size: s.backend?.size ?? null, readOnly: s.backend?.readOnly ?? null } : null)),
    floppies: setup.floppies.map((f) => (f ? 'present' : null)),
    usbPointer: setup.usbPointer ?? null,
    nics: (setup.nics ?? []).map((n) => ({ mac: Array.from(n.mac), bridge: n.bridge })),
    nsPerInstruction: setup.nsPerInstruction ?? 10,
    bios: hashBytes(setup.firmware.bios),
    vgaBios: hashBytes(setup.firmware.vgaBios),
  };
  return hashBytes(new TextEncoder().encode(JSON.stringify(identity)));
}

function devicesOf(machine: Machine): Device[] {
  const list = [...machine.devices, machine.keyboard, machine.mouse];
  const names = new Set<string>();
  for (const d of list) {
    if (names.has(d.name)) throw new SnapshotError(`two devices are named '${d.name}': snapshots need unique device names`);
    names.add(d.name);
  }
  return list;
}

function overlayOf(backend: unknown): OverlayBlocks | undefined {
  const b = backend as Partial<OverlayBlocks> | undefined;
  return b && typeof b.blocks === 'function' && typeof b.loadBlocks === 'function' ? (b as OverlayBlocks) : undefined;
}

/** Deterministic machines (virtual time, gated disks) and real-time ones (the page's) can be saved. */
function checkCanSnapshot(machine: Machine): void {
  if (!machine.mediaGate && !machine.setup.hostClockMs) {
    throw new SnapshotError('snapshots need deterministic mode or a real-time machine (a machine built with deterministic: true or hostClockMs)');
  }
}

export async function saveSnapshot(machine: Machine, extras: SnapshotExtras = {}, build = 'webhvm'): Promise<Uint8Array> {
  checkCanSnapshot(machine);
  // Real-time callers wait for machine.whenMediaIdle() with the run loop stopped first.
  if ((machine.mediaGate?.inFlight ?? 0) > 0) throw new SnapshotError('a disk request is in flight: run on until the disks are idle, then save');
  const devices: Record<string, DeviceState> = {};
  for (const d of devicesOf(machine)) devices[d.name] = d.saveState();
  const vcpus = machine.vcpuStates();
  const sections: SnapshotSectionInput[] = [
    ...vcpus.map((data, i) => ({ name: `cpu${i}`, data })),
    { name: 'vcpus', data: encodeState({ count: vcpus.length, ...machine.vcpuSchedule() }) },
    { name: 'ram', data: packPages(machine.cpu.ram()), compress: true },
    { name: 'vram', data: packPages(machine.vram), compress: true },
    { name: 'devices', data: encodeState(devices), compress: true },
    { name: 'extras', data: encodeState(extras) },
  ];
  machine.setup.ide.forEach((slot, i) => {
    const overlay = slot?.kind === 'disk' ? overlayOf(slot.backend) : undefined;
    if (overlay) sections.push({ name: `disk${i}`, data: packBlocks(overlay), compress: true });
  });
  const header = {
    build,
    configHash: configurationHash(machine.setup),
    cpuStateBytes: vcpus[0].length,
    vcpus: vcpus.length,
    insns: machine.cpu.totalInstructions.toString(),
    timeNs: machine.clock.now(),
    deviceVersions: Object.fromEntries(Object.entries(devices).map(([n, s]) => [n, s.version])),
  };
  return writeSnapshotFile(header, sections);
}

export interface RestoredSnapshot {
  header: Record<string, unknown>;
  extras: SnapshotExtras;
}

/** Load `file` into `machine` (fresh, built from the same configuration). */
export async function restoreSnapshot(machine: Machine, file: Uint8Array): Promise<RestoredSnapshot> {
  checkCanSnapshot(machine);
  const { version: formatVersion, header, sections } = await readSnapshotFile(file);
  const want = configurationHash(machine.setup);
  if (header.configHash !== want) {
    throw new SnapshotError(`snapshot was made for a different configuration or firmware (configuration hash ${String(header.configHash)}, this machine ${want})`);
  }
  const section = (name: string): Uint8Array => {
    const s = sections.get(name);
    if (!s) throw new SnapshotError(`snapshot has no ${name} section`);
    return s;
  };
  const count = machine.setup.cpuCount;
  const cpuBlocks = Array.from({ length: count }, (_, i) => section(`cpu${i}`));
  if (sections.has(`cpu${count}`)) throw new SnapshotError(`snapshot has more vCPUs than this machine's ${count}`);
  const stateBytes = machine.cpu.saveStateBlock().length;
  if (cpuBlocks.some((b) => b.length !== stateBytes)) throw new SnapshotError(`snapshot's CPU state blocks have ${cpuBlocks[0].length} bytes, this build's ${stateBytes}`);
  const schedule = formatVersion >= 2 ? readSchedule(section('vcpus'), count) : { running: 0, next: 0 };
  const timeNs = header.timeNs;
  if (typeof timeNs !== 'number' || !Number.isFinite(timeNs) || timeNs < 0) throw new SnapshotError('snapshot header has no valid guest time');
  let saved: Record<string, DeviceState>;
  let extras: SnapshotExtras;
  try {
    saved = decodeState(section('devices')) as Record<string, DeviceState>;
    extras = decodeState(section('extras')) as SnapshotExtras;
  } catch (e) {
    throw new SnapshotError(`snapshot device states are unreadable (${(e as Error).message})`);
  }
  const devices = devicesOf(machine);
  for (const d of devices) {
    const s = saved[d.name];
    if (!s) throw new SnapshotError(`snapshot has no state for device '${d.name}'`);
    const version = d.saveState().version;
    if (s.version !== version) throw new SnapshotError(`device '${d.name}': saved state version ${String(s.version)} is not supported (this build has ${version})`);
  }
  const unknown = Object.keys(saved).filter((n) => !devices.some((d) => d.name === n));
  if (unknown.length) throw new SnapshotError(`snapshot has devices this machine does not: ${unknown.join(', ')}`);
  const disks = machine.setup.ide.map((slot, i) => ({ i, overlay: slot?.kind === 'disk' ? overlayOf(slot.backend) : undefined, data: sections.get(`disk${i}`) }));
  for (const d of disks) {
    if (!!d.overlay !== !!d.data) throw new SnapshotError(`disk ${d.i}: ${d.data ? 'the snapshot has an overlay for a disk this machine opens read-only' : 'the snapshot has no overlay for this writable disk'}`);
  }
  const diskBlocks = disks.map((d) => (d.overlay && d.data ? unpackBlocks(d.data, d.overlay.blockSize, `disk ${d.i}`) : undefined));

  // Checked: load, CPU first (guest time follows its instruction count), devices last.
  machine.clock.clearEvents();
  machine.loadVcpuSchedule(schedule);
  machine.loadVcpuStates(cpuBlocks);
  machine.resumeAt(timeNs);
  unpackPages(section('ram'), machine.cpu.ram(), 'ram');
  unpackPages(section('vram'), machine.vram, 'vram');
  const order = [...devices.filter((d) => !LOAD_LAST.test(d.name)), ...devices.filter((d) => LOAD_LAST.test(d.name))];
  for (const d of order) {
    try {
      d.loadState(saved[d.name]);
    } catch (e) {
      throw new SnapshotError(`device '${d.name}': ${(e as Error).message}`);
    }
  }
  for (const [i, d] of disks.entries()) if (d.overlay && diskBlocks[i]) await d.overlay.loadBlocks(diskBlocks[i]!);
  return { header, extras };
}

/** Overlay blocks as u32 block size, u32 count, then per block u32 index, u32 length, bytes. */
function packBlocks(overlay: OverlayBlocks): Uint8Array {
  const blocks = overlay.blocks();
  const size = 8 + blocks.reduce((n, [, b]) => n + 8 + b.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, overlay.blockSize, true);
  view.setUint32(4, blocks.length, true);
  let at = 8;
  for (const [index, data] of blocks) {
    view.setUint32(at, index, true);
    view.setUint32(at + 4, data.length, true);
    out.set(data, at + 8);
    at += 8 + data.length;
  }
  return out;
}

function unpackBlocks(bytes: Uint8Array, blockSize: number, what: string): [number, Uint8Array][] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) throw new SnapshotError(`${what}: overlay section is truncated`);
  if (view.getUint32(0, true) !== blockSize) throw new SnapshotError(`${what}: overlay block size ${view.getUint32(0, true)} differs from this disk's ${blockSize}`);
  const count = view.getUint32(4, true);
  const out: [number, Uint8Array][] = [];
  let at = 8;
  for (let n = 0; n < count; n++) {
    if (at + 8 > bytes.length) throw new SnapshotError(`${what}: overlay section is truncated`);
    const index = view.getUint32(at, true);
    const length = view.getUint32(at + 4, true);
    if (at + 8 + length > bytes.length) throw new SnapshotError(`${what}: overlay section is truncated`);
    out.push([index, bytes.slice(at + 8, at + 8 + length)]);
    at += 8 + length;
  }
  return out;
}

/** The `vcpus` section: how many vCPUs, which one's state the core held and which one the next round starts with. */
function readSchedule(bytes: Uint8Array, count: number): { running: number; next: number } {
  let saved: Record<string, unknown>;
  try {
    saved = decodeState(bytes) as Record<string, unknown>;
  } catch (e) {
    throw new SnapshotError(`snapshot's vCPU section is unreadable (${(e as Error).message})`);
  }
  const index = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < count;
  if (saved?.count !== count) throw new SnapshotError(`snapshot has ${String(saved?.count)} vCPUs, this machine ${count}`);
  if (!index(saved.running) || !index(saved.next)) throw new SnapshotError("snapshot's vCPU section names a vCPU this machine does not have");
  return { running: saved.running as number, next: saved.next as number };
}
