// Starts one real Azurite for the whole test run on free loopback ports; tests isolate
// themselves with unique table / queue / hub names. Everything the run writes to the temp folder
// (tests, their child processes, Azurite) goes under one scratch folder, removed at the end.
// The run fails if the checkout's local.settings.json changed, appeared or disappeared meanwhile
// (test/support/settings-guard.ts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startAzurite, type AzuriteHandle } from '../../local/azurite.js';
import { CHECKOUT_SETTINGS, guardFile } from './settings-guard.js';
import { groupListDir, killListedGroups } from './stack-process.js';

let azurite: AzuriteHandle | undefined;
let scratch: string | undefined;
let checkSettings: (() => void) | undefined;

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
  guardCheckoutSettings();
  buildOnce();
  await startScratchAzurite(project, 'lyncdr-test-');
}

/** The scratch folder (TMPDIR for the tests and what they start) and one Azurite in it; teardown removes both. */
export async function startScratchAzurite(project: TestProject, prefix: string): Promise<void> {
  scratch = mkdtempSync(path.join(os.tmpdir(), prefix));
  // os.tmpdir() follows TMPDIR; the test workers and every process they start inherit it.
  // LYNCDR_TEST_SCRATCH names it for test/support/file-hooks.ts's check and stack-process.ts's list.
  process.env.TMPDIR = scratch;
  process.env.LYNCDR_TEST_SCRATCH = scratch;
  azurite = await startAzurite({ location: mkdtempSync(path.join(scratch, 'azurite-')), freePorts: true });
  project.provide('azuriteConnectionString', azurite.connectionString);
  process.env.AzureWebJobsStorage = azurite.connectionString;
}

/** Notes the state of the checkout's local.settings.json; teardown fails the run if it changed. */
export function guardCheckoutSettings(): void {
  checkSettings = guardFile(CHECKOUT_SETTINGS);
}

export async function teardown(): Promise<void> {
  // Stacks a worker could not kill (it was SIGKILLed): their groups are still listed.
  const list = groupListDir();
  const left = list ? killListedGroups(list) : [];
  if (left.length) console.error(`killed ${left.length} process group(s) a test worker left running: ${left.join(', ')}`);
  await azurite?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  checkSettings?.();
}

declare module 'vitest' {
  export interface ProvidedContext { azuriteConnectionString: string }
}
