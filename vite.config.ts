import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// The emulator keeps guest RAM in a SharedArrayBuffer, which browsers only allow on
// cross-origin isolated pages: every server that hosts WebHVM must send these two headers.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  worker: { format: 'es' },
  // `vite build` puts the page, the worker, build/cpu.wasm and the firmware (hashed assets) in
  // dist/; any static host works if it sends the headers above.
  build: { outDir: 'dist', target: 'es2022' },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    // Most of the suite's time is whole-machine boots, each on one core: use every core
    // (Vitest's own default leaves one idle, which on a 2-core machine halves the speed).
    maxWorkers: availableParallelism(),
  },
});
