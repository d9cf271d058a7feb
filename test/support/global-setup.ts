// Starts one real Azurite for the whole test run on free loopback ports; tests isolate
// themselves with unique table / queue / hub names. Everything the run writes to the temp folder
// (tests, their child processes, Azurite) goes under one scratch folder, removed at the end.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startAzurite, type AzuriteHandle } from '../../local/azurite.js';

let azurite: AzuriteHandle | undefined;
let scratch: string | undefined;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Builds dist/ once, before any test file runs, and fails the run if the build fails. Test files
 * that run the built CLI, worker or host must not rebuild it themselves: tsc rewrites dist/ while
 * other files execute it, and a half-written module made a CLI test read empty output.
 */
function buildOnce(): void {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the build failed (tsc exit ${r.status}); no test runs on a stale dist/:\n${r.stdout}${r.stderr}`);
}

export async function setup(project: TestProject): Promise<void> {
  buildOnce();
  await startScratchAzurite(project, 'lyncdr-test-');
}

/** The scratch folder (TMPDIR for the tests and what they start) and one Azurite in it; teardown removes both. */
export async function startScratchAzurite(project: TestProject, prefix: string): Promise<void> {
  scratch = mkdtempSync(path.join(os.tmpdir(), prefix));
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
