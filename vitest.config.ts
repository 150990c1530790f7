import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['bot/**/*.test.ts', 'handlers/**/*.test.ts', 'jobs/**/*.test.ts', 'storage/**/*.test.ts', 'scripts/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
