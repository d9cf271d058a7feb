// A lock on a file shared by several processes (the workers of each site and `lyncdr lab` all
// read-modify-write the simulator's files): `<file>.lock`, created exclusively and holding the
// holder's pid. A holder that died mid-update leaves it behind; the next one takes it over.
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

export async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lockPath = `${file}.lock`;
  await mkdir(path.dirname(file), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      const h = await open(lockPath, 'wx');
      try { await h.writeFile(String(process.pid)); } finally { await h.close(); }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await lockIsStale(lockPath)) { await unlink(lockPath).catch(() => undefined); continue; }
    await new Promise((r) => setTimeout(r, Math.min(50, 2 + attempt)));
  }
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}

/** A holder that is no longer running (killed mid-update), or a lock older than any update takes. */
async function lockIsStale(lockPath: string): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    if (Date.now() - info.mtimeMs > 30_000) return true;
    const pid = Number(text);
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - info.mtimeMs > 1_000; // still being written
    try { process.kill(pid, 0); return false; } catch (e) { return (e as NodeJS.ErrnoException).code === 'ESRCH'; }
  } catch {
    return false; // gone meanwhile: the next attempt takes it
  }
}
