/**
 * NODE-ONLY: build a Machine and its Session from a configuration file for the runner
 * (`webhvm run`), `webhvm test` and the benchmarks. Deterministic mode fixes everything the host
 * would otherwise decide: the RTC starts at DETERMINISTIC_EPOCH (plus `rtc_timeoffset`;
 * `localtime` is UTC, the host's zone is not asked), disk answers arrive at guest times fixed by
 * the request, and generated values come from the configuration (MACs from the domain name).
 * Without it the RTC shows the host's time. With `persist`, writable disks keep their overlays
 * in files beside the configuration. Cards plug into the switches of `network` (shared by the
 * run's machines), whose built-in gateways serve `gateway`'s TFTP files and boot file.
 */
import { basename } from 'node:path';
import { formatDiagnostic } from '../config/diagnostics.ts';
import { readDomainConfigFile, nodeMediaResolver } from '../config/resolve-node.ts';
import { resolveMedia } from '../config/media.ts';
import type { DomainConfig } from '../config/domain-config.ts';
import { Machine } from '../machine/machine.ts';
import { machineSetupFromConfig } from '../machine/setup-from-config.ts';
import { loadCoreModule } from '../cpu/load-core-node.ts';
import { loadFirmwareFiles } from '../firmware/firmware-files-node.ts';
import { RTL8139_ROM, SYSTEM_BIOS, VGA_BIOS_STDVGA } from '../firmware/firmware-files.ts';
import { builtInGateway, type GatewayOptions } from '../net/gateway.ts';
import { SwitchRegistry } from '../net/virtual-switch.ts';
import { CowOverlay } from '../storage/cow-overlay.ts';
import { PersistedOverlay } from '../storage/overlay-store.ts';
import { OverlayFile, overlayPath } from '../storage/overlay-file-node.ts';
import { NodeFileBackend } from '../storage/node-file-backend.ts';
import { checkCdImage } from '../storage/image-checks.ts';
import { Session, type SessionOptions } from '../harness/session.ts';
import { openImagesNode } from './open-images-node.ts';
import { DETERMINISTIC_EPOCH } from '../harness/deterministic-clock.ts';

/** 2024-01-01T00:00:00Z: the RTC's time at power-on in deterministic mode. */
export { DETERMINISTIC_EPOCH } from '../harness/deterministic-clock.ts';

const VDEVS = ['hda', 'hdb', 'hdc', 'hdd'] as const;

export interface BuildOptions {
  deterministic: boolean;
  /** Keep writable disks' overlays in `<name>.<vdev>.overlay` beside the configuration. */
  persist?: boolean;
  session?: Omit<SessionOptions, 'changeMedia'>;
  debugConsole?: (byte: number) => void;
  /** Print configuration warnings (default: to stderr). */
  onWarning?: (line: string) => void;
  /** Switches by bridge name, shared with the run's other machines (the machine's own if absent). */
  network?: SwitchRegistry;
  /** What the built-in gateway of each of the machine's bridges serves (TFTP files, the DHCP boot file). */
  gateway?: Omit<GatewayOptions, 'port'>;
  /** Guest time follows the host clock (a relay: the outside world's timeouts are real). Not with `deterministic`. */
  realTime?: boolean;
}

/** The message for an error buildMachineFromConfig throws (configuration, image, overlay, firmware). */
export function buildErrorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface BuiltMachine {
  config: DomainConfig;
  machine: Machine;
  session: Session;
  /** Overlay files in use, by vdev. */
  overlays: Map<string, string>;
  /** Open a CD image before a `media` input names it (inputs are taken synchronously). */
  prepareMedia(path: string): Promise<void>;
  close(): Promise<void>;
}

export async function buildMachineFromConfig(configPath: string, options: BuildOptions): Promise<BuiltMachine> {
  const result = await readDomainConfigFile(configPath);
  const warn = options.onWarning ?? ((l: string) => console.error(l));
  for (const w of result.warnings) warn(`webhvm: ${formatDiagnostic(basename(configPath), w)}`);
  const config = result.config;
  const media = await resolveMedia(config, nodeMediaResolver(configPath), { fileName: configPath });
  const images = await openImagesNode(media);
  const closers: (() => Promise<void>)[] = [images.close];
  const overlays = new Map<string, string>();
  try {
    if (options.persist) {
      for (let i = 0; i < 4; i++) {
        const slot = images.opened.ide[i];
        if (slot?.kind !== 'disk' || !(slot.backend instanceof CowOverlay)) continue;
        const path = overlayPath(configPath, config.name, VDEVS[i]);
        const persisted = await PersistedOverlay.open(slot.backend, new OverlayFile(path));
        closers.unshift(() => persisted.close());
        images.opened.ide[i] = { kind: 'disk', backend: persisted };
        overlays.set(VDEVS[i], path);
      }
    }
    if (options.deterministic && options.realTime) throw new Error('a machine in real time (guest time from the host clock) cannot be deterministic');
    // The iPXE option ROM only when the network is in the boot order (see docs/networking.md).
    const netBoot = config.boot.includes('n') && config.nics.length > 0;
    const firmware = loadFirmwareFiles([SYSTEM_BIOS, VGA_BIOS_STDVGA, ...(netBoot ? [RTL8139_ROM] : [])]);
    let machine: Machine | undefined;
    const prepared = new Map<string, NodeFileBackend>();
    const session = new Session({
      onPoweroff: config.onPoweroff,
      onReboot: config.onReboot,
      ...options.session,
      changeMedia: (drive, path) => changeMedia(machine!, drive, path, path === null ? undefined : prepared.get(path)),
    });
    // The gateway of each bridge is set up before the machine plugs into it.
    const network = options.network ?? new SwitchRegistry();
    for (const nic of config.nics) builtInGateway(network.bridge(nic.bridge), options.gateway);
    const setup = machineSetupFromConfig(config, images.opened, {
      firmware: { bios: firmware.get(SYSTEM_BIOS)!, vgaBios: firmware.get(VGA_BIOS_STDVGA)!, nicRom: firmware.get(RTL8139_ROM) },
      serialOutput: session.serialOutput,
      debugConsole: options.debugConsole,
      nowSeconds: options.deterministic ? DETERMINISTIC_EPOCH : Math.floor(Date.now() / 1000),
      localOffsetSeconds: options.deterministic ? 0 : -new Date().getTimezoneOffset() * 60,
    });
    const hostClockMs = options.realTime ? () => performance.now() : undefined;
    machine = new Machine({ ...setup, deterministic: options.deterministic, network, hostClockMs }, loadCoreModule());
    session.attach(machine);
    return {
      config, machine, session, overlays,
      prepareMedia: async (path: string) => {
        if (prepared.has(path)) return;
        const file = await NodeFileBackend.open(path);
        closers.push(() => file.close());
        await checkCdImage(path, file);
        prepared.set(path, file);
      },
      close: async () => {
        for (const c of closers) await c();
      },
    };
  } catch (e) {
    for (const c of closers) await c().catch(() => undefined);
    throw e;
  }
}

/** Eject (`backend` undefined for a null path) or insert a prepared CD image in `drive` (hdc, ...). */
function changeMedia(machine: Machine, drive: string, path: string | null, backend: NodeFileBackend | undefined): void {
  const index = VDEVS.indexOf(drive as (typeof VDEVS)[number]);
  const cd = machine.cdroms.get(index);
  if (!cd) throw new Error(`${drive} is not a CD-ROM drive`);
  if (path === null) return cd.eject();
  if (!backend) throw new Error(`${drive}: image ${path} was not opened before the insert`);
  cd.insert(machine.gateMedia(backend));
}
