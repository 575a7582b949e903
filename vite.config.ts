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
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
