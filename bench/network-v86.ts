/**
 * The network bench's peer: the same two-guest session (bench/network-script.ts) in two instances
 * of the v86 npm package in this process. v86's network card is an NE2000 on PCI, for which the
 * test guest's CD has no driver; so v86 boots the same kernel (vmlinuz-686) directly with
 * initrd-686-ne2k.gz, the CD's initramfs plus ne2k-pci and 8390 (test/images/build-guests.sh),
 * and the CD's command line. The cards are wired to a WebHVM VirtualSwitch with the same built-in
 * gateway (DHCP) as the WebHVM side, through v86's bus events: "net0-send" carries a frame the
 * guest sent, "net0-receive" hands one to its card. Only the emulators differ.
 */
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { builtInGateway } from '../src/net/gateway.ts';
import { VirtualSwitch } from '../src/net/virtual-switch.ts';
import { lastLines, processCpuMs, type NetworkRun } from './network.ts';
import { DEFAULT_PARAMS, NetworkBenchScript, type GuestConsole, type NetworkBenchParams } from './network-script.ts';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const firmware = join(root, 'bios/firmware');
const images = join(root, 'test/images/out');
const KERNEL = join(images, 'vmlinuz-686');
const INITRD = join(images, 'initrd-686-ne2k.gz');

/** Why the v86 side cannot run here, or undefined. */
export function v86NetworkAvailable(): string | undefined {
  for (const f of [KERNEL, INITRD, join(images, 'manifest.json')]) {
    if (!existsSync(f)) return `${f} is missing: run "bash test/images/build-guests.sh"`;
  }
  return undefined;
}

/** The part of a V86 instance used here; `bus` is v86's (undeclared) message bus. */
interface V86Like {
  add_listener(event: string, listener: (value: never) => void): void;
  serial0_send(text: string): void;
  bus: { send(event: string, value: unknown): void };
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

function arrayBuffer(path: string): ArrayBuffer {
  const b = readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

export async function networkV86(disableJit: boolean, params: NetworkBenchParams = DEFAULT_PARAMS, timeoutMs = 1_200_000, progress?: (line: string) => void): Promise<NetworkRun> {
  const { V86 } = await import('v86');
  const require = createRequire(import.meta.url);
  const wasmBytes = readFileSync(join(dirname(require.resolve('v86')), 'v86.wasm'));
  const cmdline = (JSON.parse(readFileSync(join(images, 'manifest.json'), 'utf8')) as { cmdline: string }).cmdline;
  const side = disableJit ? 'v86-interp' : 'v86-jit';
  const sw = new VirtualSwitch('xenbr0');
  builtInGateway(sw);
  const emulators: V86Like[] = [];
  const consoles: GuestConsole[] = [];
  for (let i = 0; i < 2; i++) {
    const emulator = new V86({
      wasm_fn: async (imports: WebAssembly.Imports) => (await WebAssembly.instantiate(wasmBytes, imports)).instance.exports,
      bios: { buffer: arrayBuffer(join(firmware, 'bios.bin')) },
      vga_bios: { buffer: arrayBuffer(join(firmware, 'vgabios-stdvga.bin')) },
      bzimage: { buffer: arrayBuffer(KERNEL) },
      initrd: { buffer: arrayBuffer(INITRD) },
      cmdline,
      memory_size: 128 << 20,
      disable_jit: disableJit,
      autostart: true,
      disable_keyboard: true,
      disable_mouse: true,
      disable_speaker: true,
    } as ConstructorParameters<typeof V86>[0]) as unknown as V86Like;
    let serial = '';
    emulator.add_listener('serial0-output-byte', (b: number) => { serial += String.fromCharCode(b); });
    const port = sw.connect(`v86-${i}`);
    // The card's frame may be a view of its buffer memory: copy it before it leaves.
    emulator.add_listener('net0-send', (frame: Uint8Array) => port.send(frame.slice()));
    port.onReceive = (frame) => emulator.bus.send('net0-receive', frame);
    emulators.push(emulator);
    consoles.push({ text: () => serial, type: (line) => emulator.serial0_send(line) });
  }
  const script = new NetworkBenchScript(consoles[0], consoles[1], params);
  const start = performance.now();
  let leasedAt: number | undefined;
  let lastNote = start;
  try {
    await new Promise<void>((resolve, reject) => {
      // v86 runs from the event loop; the script looks at the output every few milliseconds.
      const timer = setInterval(() => {
        const now = performance.now();
        script.step(now, processCpuMs());
        if (leasedAt === undefined && script.leased) leasedAt = now;
        if (progress && now - lastNote > 10_000) {
          lastNote = now;
          progress(`${side}: ${((now - start) / 1000).toFixed(0)} s, ${script.stage}; ${lastLines(consoles)}`);
        }
        if (script.failure) reject(new Error(`${side}: ${script.failure}`));
        else if (script.done) resolve();
        else if (now - start > timeoutMs) {
          reject(new Error(`${side} network bench timed out at: ${script.stage}\n` +
            consoles.map((c, i) => `--- guest ${i} ---\n${c.text().slice(-1500)}`).join('\n')));
        } else return;
        clearInterval(timer);
      }, 5);
    });
    return { side, setupSeconds: ((leasedAt ?? start) - start) / 1000, ...script.result() };
  } finally {
    for (const e of emulators) {
      await e.stop();
      await e.destroy();
    }
  }
}
