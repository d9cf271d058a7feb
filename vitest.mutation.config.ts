// The tests StrykerJS runs against each mutant (npm run test:mutation): the files that exercise
// the mutated folders in this process. Tests that reach the code only through child processes
// (the built CLI, spawned hosts) run dist/, which Stryker does not mutate, so they are left out:
// they could not kill a mutant and would only slow every run.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/support/mutation-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    include: (process.env.LYNCDR_MUTATION_TESTS ?? 'test/approvals/**/*.test.ts,test/audit/chain.test.ts,test/audit/trail.test.ts').split(','),
    maxWorkers: 1,
  },
});
