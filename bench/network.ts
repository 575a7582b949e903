/**
 * Guest-to-guest network figures in WebHVM: two Linux guests (test/images/out/linux.iso, 128 MiB,
 * acpi=0 apic=0, an RTL8139 each) in this process on one bridge with its built-in gateway, taking
 * turns in the runner's scheduler as `webhvm run a.cfg b.cfg` runs them (10 ms batches, frames
 * delivered at once). bench/network-script.ts types the session and takes the figures.
 *
 * Clock: by default guest time is virtual, as in `webhvm run` (it follows the instruction count,
 * and a halted guest skips ahead to its next timer). With `realTime` guest time follows the host
 * clock (`hostClockMs`), as in the page and on a relayed bridge: a halted guest waits.
 */
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMachines } from '../src/cli/multi-run.ts';
import { VmRunLoop, type RunnableVm } from '../src/cli/run-loop.ts';
import { loadCoreModule } from '../src/cpu/load-core-node.ts';
import { Machine } from '../src/machine/machine.ts';
import { builtInGateway } from '../src/net/gateway.ts';
import { SwitchRegistry } from '../src/net/virtual-switch.ts';
import { NodeFileBackend } from '../src/storage/node-file-backend.ts';
import { BOOT_ISO } from './linux-boot.ts';
import { DEFAULT_PARAMS, NetworkBenchScript, type GuestConsole, type NetworkBenchParams, type NetworkMeasurement } from './network-script.ts';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const firmware = join(root, 'bios/firmware');
const MACS = ['00:16:3e:00:be:01', '00:16:3e:00:be:02'];

export interface NetworkRun extends NetworkMeasurement {
  side: string;
  /** Host seconds from power-on until both guests had their lease. */
  setupSeconds: number;
}

interface Guest extends GuestConsole {
  machine: Machine;
  serial: string;
}

/** CPU time of this process (user + system, all threads) in ms. */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The last line each guest printed, for progress output. */
export function lastLines(consoles: readonly GuestConsole[]): string {
  return consoles.map((c, i) => `[${i}] ${JSON.stringify(c.text().trimEnd().split('\n').pop()!.slice(-60))}`).join(' ');
}

function macBytes(mac: string): Uint8Array {
  return new Uint8Array(mac.split(':').map((h) => parseInt(h, 16)));
}

export async function networkWebhvm(params: NetworkBenchParams = DEFAULT_PARAMS, timeoutMs = 1_200_000, progress?: (line: string) => void, realTime = false): Promise<NetworkRun> {
  const side = realTime ? 'webhvm-realtime' : 'webhvm';
  const fw = (n: string) => new Uint8Array(readFileSync(join(firmware, n)));
  const network = new SwitchRegistry();
  const backends: NodeFileBackend[] = [];
  const guests: Guest[] = [];
  const core = loadCoreModule();
  for (const [i, mac] of MACS.entries()) {
    const iso = await NodeFileBackend.open(BOOT_ISO);
    backends.push(iso);
    const guest = { serial: '' } as Guest;
    guest.text = () => guest.serial;
    guest.type = (line) => guest.machine.serial[0].receive(new TextEncoder().encode(line));
    guest.machine = new Machine({
      name: `net-${i}`, ramMiB: 128, cpuCount: 1, acpi: false, apic: false, pae: false, boot: ['cdrom'],
      ide: [undefined, undefined, { kind: 'cdrom', backend: iso }], floppies: [], rtcStartSeconds: 1_700_000_000,
      firmware: { bios: fw('bios-256k.bin'), vgaBios: fw('vgabios-stdvga.bin') },
      nics: [{ mac: macBytes(mac), bridge: 'xenbr0' }],
      network,
      hostClockMs: realTime ? () => performance.now() : undefined,
      serialOutput: (port, b) => { if (port === 0) guest.serial += String.fromCharCode(b); },
    }, core);
    guests.push(guest);
  }
  builtInGateway(network.bridge('xenbr0'));
  const [sender, receiver] = guests;
  const script = new NetworkBenchScript(sender, receiver, params);
  const start = performance.now();
  let leasedAt: number | undefined;
  let lastNote = 0;
  const driven = (guest: Guest): RunnableVm => {
    const loop = new VmRunLoop(guest.machine, { onPoweroff: 'destroy', onReboot: 'destroy', onCrash: 'destroy', serialText: () => guest.serial });
    return {
      get idle() {
        return loop.idle;
      },
      whenMediaIdle: () => loop.whenMediaIdle(),
      // Virtual time: the two guests' clocks are kept together, as `webhvm run` keeps them.
      guestTimeNs: () => (realTime ? undefined : guest.machine.clock.now()),
      limitGuestTime: (ns) => { guest.machine.timeLimitNs = ns; },
      runBatch(ms) {
        const result = loop.runBatch(ms);
        const now = performance.now();
        script.step(now, processCpuMs());
        if (leasedAt === undefined && script.leased) leasedAt = now;
        if (progress && now - lastNote > 10_000) {
          lastNote = now;
          progress(`${side}: ${((now - start) / 1000).toFixed(0)} s, ${script.stage}; ${lastLines(guests)}`);
        }
        // Ends the run (as a pattern match would) once the figures are in or a command failed.
        return result ?? (script.done || script.failure ? { event: 'matched' } : undefined);
      },
    };
  };
  try {
    const results = await runMachines(guests.map((g) => ({ loop: driven(g), hasPattern: true })), { timeoutSeconds: timeoutMs / 1000, lockstep: !realTime });
    if (script.failure) throw new Error(`${side}: ${script.failure}`);
    if (!script.done) {
      throw new Error(`${side} network bench ended (${results.map((r) => r.event).join(', ')}) at: ${script.stage}\n` +
        guests.map((g, i) => `--- guest ${i} ---\n${g.serial.slice(-1500)}`).join('\n'));
    }
    return { side, setupSeconds: ((leasedAt ?? start) - start) / 1000, ...script.result() };
  } finally {
    for (const b of backends) await b.close();
  }
}
