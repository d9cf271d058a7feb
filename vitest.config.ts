import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Kills a test's process groups when it ends; fails a file that touched local.settings.json.
    setupFiles: ['test/support/file-hooks.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: crash and multi-host tests spawn processes of their own.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
