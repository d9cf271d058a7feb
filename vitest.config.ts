import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: crash and multi-host tests spawn processes of their own.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
