/**
 * The machine worker's entry (a module worker, bundled by Vite): compiles the CPU core, fetches
 * and verifies the firmware, and exposes a MachineSession to the page through Comlink. The
 * asset URLs are resolved by Vite (hashed files in the production build).
 */
import { expose } from 'comlink';
import cpuWasmUrl from '../../build/cpu.wasm?url';
import biosUrl from '../../bios/firmware/bios-256k.bin?url';
import vgaBiosUrl from '../../bios/firmware/vgabios-stdvga.bin?url';
import { SYSTEM_BIOS, VGA_BIOS_STDVGA, verifyFirmware, missingFirmwareError } from '../firmware/firmware-files.ts';
import { MachineSession } from './machine-session.ts';
import type { CreateRequest, CreateResult, MachineApi } from './machine-api.ts';

async function fetchBytes(url: string, what: string): Promise<ArrayBuffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${what} could not be loaded from ${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

async function fetchFirmware(name: string, url: string): Promise<Uint8Array> {
  const response = await fetch(url).catch(() => undefined);
  if (!response?.ok) throw missingFirmwareError(name, url);
  return verifyFirmware(name, new Uint8Array(await response.arrayBuffer()));
}

async function loadSession(): Promise<MachineSession> {
  const [core, bios, vgaBios] = await Promise.all([
    fetchBytes(cpuWasmUrl, 'the CPU core (build/cpu.wasm)').then((b) => WebAssembly.compile(b)),
    fetchFirmware(SYSTEM_BIOS, biosUrl),
    fetchFirmware(VGA_BIOS_STDVGA, vgaBiosUrl),
  ]);
  return new MachineSession({ module: core, firmware: { bios, vgaBios } });
}

const loading = loadSession();
// Reported through create(); keep an early failure from being an unhandled rejection.
loading.catch(() => {});

/** Every MachineApi method on the session once it is loaded; create() reports a load failure. */
const api = new Proxy({} as MachineApi, {
  get(_target, name: string) {
    if (name === 'create') {
      return async (request: CreateRequest): Promise<CreateResult> => {
        let session: MachineSession;
        try {
          session = await loading;
        } catch (e) {
          const message = (e as Error).message;
          return { ok: false, fileName: request.fileName ?? 'domain.cfg', problems: [{ line: 0, column: 0, message }], warnings: [], message };
        }
        return session.create(request);
      };
    }
    return async (...args: unknown[]) => {
      const session = await loading;
      const method = (session as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
      if (typeof method !== 'function') throw new Error(`MachineApi has no method ${name}`);
      return method.apply(session, args);
    };
  },
});

expose(api);
