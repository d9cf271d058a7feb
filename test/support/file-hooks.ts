// Runs around every test file (vitest setupFiles). It registers its hooks first, so its after-hooks
// run last, after the file's own: a test's stacks are killed, as a whole process group, when that
// test ends (passed, failed or timed out), the file's when the file ends; and a file during which
// the checkout's local.settings.json changed fails, naming itself (with another file running
// alongside it, that one may be the cause: the global teardown's check has the last word).
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { CHECKOUT_SETTINGS, fileState, settingsChange, type FileState } from './settings-guard.js';
import { killAllStacks, killStacksSince, stackMark } from './stack-process.js';

// Temp folders come from the run's scratch folder: os.tmpdir() must be inside it.
const scratch = process.env.LYNCDR_TEST_SCRATCH;
if (!scratch || path.relative(scratch, os.tmpdir()).startsWith('..')) {
  throw new Error(`os.tmpdir() is ${os.tmpdir()}, not the run's scratch folder (${scratch ?? 'none: the global setup did not run'}); temp folders would outlive the run`);
}

let settingsBefore: FileState;
let mark = 0;
beforeAll(() => { settingsBefore = fileState(CHECKOUT_SETTINGS); });
beforeEach(() => { mark = stackMark(); });
afterEach(() => { killStacksSince(mark); });
afterAll(() => {
  killAllStacks();
  const change = settingsChange(CHECKOUT_SETTINGS, settingsBefore, fileState(CHECKOUT_SETTINGS));
  if (change) throw new Error(`during this file: ${change}`);
});
