// The global setup of mutation runs (vitest.mutation.config.ts): Azurite on free ports and a
// scratch folder, as the suite's setup, but no build: the tests Stryker runs import the sources
// it mutated, never dist/.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startAzurite, type AzuriteHandle } from '../../local/azurite.js';

let azurite: AzuriteHandle | undefined;
let scratch: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-mutation-'));
  process.env.TMPDIR = scratch;
  azurite = await startAzurite({ location: mkdtempSync(path.join(scratch, 'azurite-')), freePorts: true });
  project.provide('azuriteConnectionString', azurite.connectionString);
  process.env.AzureWebJobsStorage = azurite.connectionString;
}

export async function teardown(): Promise<void> {
  await azurite?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
