// The tests StrykerJS runs against each mutant (npm run test:mutation): files that run the mutated
// folders in this process. test/mutation/ runs the local host, the orchestrators and the worker
// in-process (stack.ts), so their mutants are reached; tests that reach code only through child
// processes (the built CLI, spawned hosts and workers) run dist/, which Stryker does not mutate,
// so they are left out: they could not kill a mutant and would only slow every run.
// LYNCDR_MUTATION_TESTS (comma-separated globs) picks a smaller set for one folder.
import { defineConfig } from 'vitest/config';

const DEFAULT = [
  'test/approvals/**/*.test.ts', 'test/audit/chain.test.ts', 'test/audit/trail.test.ts',
  'test/worker/journal.test.ts', 'test/mutation/**/*.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['test/support/mutation-setup.ts'],
    setupFiles: ['test/support/file-hooks.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    include: process.env.LYNCDR_MUTATION_TESTS?.split(',') ?? DEFAULT,
    maxWorkers: 1,
  },
});
