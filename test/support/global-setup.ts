// Starts one real Azurite for the whole test run on free loopback ports; tests isolate
// themselves with unique table / queue / hub names. Everything the run writes to the temp folder
// (tests, their child processes, Azurite) goes under one scratch folder, removed at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startAzurite, type AzuriteHandle } from '../../local/azurite.js';

let azurite: AzuriteHandle | undefined;
let scratch: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-test-'));
  // os.tmpdir() follows TMPDIR; the test workers and every process they start inherit it.
  process.env.TMPDIR = scratch;
  azurite = await startAzurite({ location: mkdtempSync(path.join(scratch, 'azurite-')), freePorts: true });
  project.provide('azuriteConnectionString', azurite.connectionString);
  process.env.AzureWebJobsStorage = azurite.connectionString;
}

export async function teardown(): Promise<void> {
  await azurite?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext { azuriteConnectionString: string }
}
