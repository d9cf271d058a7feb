// The global setup of mutation runs (vitest.mutation.config.ts): the suite's scratch folder and
// Azurite, but no build: the tests Stryker runs import the sources it mutated, never dist/.
import type { TestProject } from 'vitest/node';
import { guardCheckoutSettings, startScratchAzurite } from './global-setup.js';

export { teardown } from './global-setup.js';

export async function setup(project: TestProject): Promise<void> {
  guardCheckoutSettings();
  await startScratchAzurite(project, 'lyncdr-mutation-');
}
