// Builds the CPU: regenerates the dispatcher from the opcode table, then compiles wasm/ with
// AssemblyScript twice: release (optimised, no assertions) and debug (assertions, source map).
// Both import a shared WebAssembly.Memory from env.memory.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { tsImport } from 'tsx/esm/api';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, 'build');
mkdirSync(out, { recursive: true });

const { writeGenerated } = await tsImport('./table/generate.ts', import.meta.url);
writeGenerated(join(root, 'wasm/generated/execute.ts'));

const asc = join(root, 'node_modules/assemblyscript/bin/asc.js');
const common = [
  'wasm/index.ts',
  '--runtime', 'stub',
  '--importMemory', '--sharedMemory', '--noExportMemory',
  '--initialMemory', '512', // 32 MiB: the fixed tables below RAM_BASE (see wasm/layout.ts)
  '--maximumMemory', '65536',
  '--enable', 'threads',
  '--exportRuntime',
];
// --release-to <file>: only the release build, written to <file> (to compare builds, see
// bench/compare-cores.ts).
const releaseTo = process.argv.includes('--release-to') ? process.argv[process.argv.indexOf('--release-to') + 1] : undefined;
const wanted = process.argv.includes('--debug-only') ? ['debug'] : releaseTo ? ['release'] : ['release', 'debug'];
for (const kind of wanted) {
  const args = kind === 'release'
    ? [...common, '-O3', '--noAssert', '--outFile', releaseTo ?? join(out, 'cpu.wasm')]
    : [...common, '--debug', '--sourceMap', '--outFile', join(out, 'cpu.debug.wasm')];
  execFileSync(process.execPath, [asc, ...args], { cwd: root, stdio: 'inherit' });
}
console.log(`built ${wanted.map((k) => (k === 'release' ? releaseTo ?? 'build/cpu.wasm' : 'build/cpu.debug.wasm')).join(', ')}`);
