// Issue 14 §3: tests never read or write the checkout's local.settings.json (a developer's, made by
// `npm start` or `npm run drill`, must neither leak into the tests nor be rewritten by them).
// The global setup notes the file's state and its teardown fails the run if it changed, appeared
// or disappeared; the per-file hooks say which file was running when it did.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's own settings (npm start's, a developer's). */
export const CHECKOUT_SETTINGS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../local.settings.json');

export interface FileState { exists: boolean; sha256?: string; mtimeMs?: number }

export function fileState(file: string): FileState {
  let mtimeMs: number;
  try { mtimeMs = statSync(file).mtimeMs; } catch { return { exists: false }; }
  return { exists: true, mtimeMs, sha256: createHash('sha256').update(readFileSync(file)).digest('hex') };
}

const HINT = 'a test, or a stack or host it started, used the checkout\'s settings: give it its own (LYNCDR_LOCAL_SETTINGS, a --root / --settings of its own, or startTestHost\'s settings)';

/** What happened to `file` between two states, as an error message; undefined when nothing did. */
export function settingsChange(file: string, before: FileState, after: FileState): string | undefined {
  if (!before.exists && after.exists) return `${file} appeared while the tests ran: ${HINT}`;
  if (before.exists && !after.exists) return `${file} disappeared while the tests ran: ${HINT}`;
  if (before.exists && (before.sha256 !== after.sha256 || before.mtimeMs !== after.mtimeMs)) {
    return `${file} was ${before.sha256 !== after.sha256 ? 'changed' : 'rewritten (same content, new mtime)'} while the tests ran: ${HINT}`;
  }
  return undefined;
}

/**
 * Notes `file`'s state now; the returned check fails (throws, and sets the exit code: vitest only
 * logs an error thrown by a global teardown, "error during close", and still exits 0) if the
 * file changed, appeared or disappeared since.
 */
export function guardFile(file: string): () => void {
  const before = fileState(file);
  return () => {
    const change = settingsChange(file, before, fileState(file));
    if (!change) return;
    process.exitCode = 1;
    console.error(`\n${change}\n`);
    throw new Error(change);
  };
}
