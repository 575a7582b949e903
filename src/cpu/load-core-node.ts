// Node only: compile the built CPU core from build/cpu.wasm (npm run build:wasm makes it).
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let cached: WebAssembly.Module | undefined;

export function loadCoreModule(debug = false): WebAssembly.Module {
  if (cached && !debug) return cached;
  const path = fileURLToPath(new URL(`../../build/${debug ? 'cpu.debug.wasm' : 'cpu.wasm'}`, import.meta.url));
  if (!existsSync(path)) throw new Error(`${path} is missing: run "npm run build:wasm" first`);
  const module = new WebAssembly.Module(readFileSync(path));
  if (!debug) cached = module;
  return module;
}
