// Starts one real Azurite for the whole test run on free loopback ports; tests isolate
// themselves with unique table / queue / hub names.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startAzurite, type AzuriteHandle } from '../../local/azurite.js';

let azurite: AzuriteHandle | undefined;
let dir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-azurite-'));
  azurite = await startAzurite({ location: dir, freePorts: true });
  project.provide('azuriteConnectionString', azurite.connectionString);
  process.env.AzureWebJobsStorage = azurite.connectionString;
}

export async function teardown(): Promise<void> {
  await azurite?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext { azuriteConnectionString: string }
}
