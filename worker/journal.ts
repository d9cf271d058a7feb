// The worker's idempotency journal: what it started and what came of it, on local disk, so it
// survives a crash or restart of the worker. Service Bus and storage queues both deliver at
// least once; this is what turns that into "a command takes effect at most once".
//
// Layout: one pair of files per command, named by a hash of its commandId.
//   <key>.started.json  created with O_EXCL before execution: creation is the atomic claim,
//                       so two deliveries racing in one process cannot both run the command.
//   <key>.result.json   written to a temp file, fsynced, renamed into place: never half-written.
// A started file without a result file means the worker died mid-command: the outcome is
// unknown and the command must not be run again.
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CommandMessage, ResultMessage } from '../shared/messages.js';

const StartedRecord = z.object({
  commandId: z.string(),
  startedAt: z.string(),
  workerId: z.string(),
  pid: z.number().int(),
  command: CommandMessage,
});
export type StartedRecord = z.infer<typeof StartedRecord>;

export type JournalEntry =
  | { state: 'started'; started: StartedRecord | undefined }
  | { state: 'finished'; started: StartedRecord | undefined; result: ResultMessage };

export type ClaimResult = { claimed: true } | { claimed: false; existing: JournalEntry };

export function journalKey(commandId: string): string {
  return createHash('sha256').update(commandId).digest('hex').slice(0, 40);
}

async function fsyncDir(dir: string): Promise<void> {
  // Makes the directory entry (the create / rename) durable, not only the file contents.
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

export class FileJournal {
  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<FileJournal> {
    await mkdir(dir, { recursive: true });
    const j = new FileJournal(path.resolve(dir));
    await j.removeStaleTemps();
    return j;
  }

  private file(commandId: string, kind: 'started' | 'result'): string {
    return path.join(this.dir, `${journalKey(commandId)}.${kind}.json`);
  }

  /**
   * Records that the command is about to run. Returns claimed:false with the existing entry when
   * any delivery (this process or an earlier one) got there first.
   */
  async claim(command: CommandMessage, workerId: string): Promise<ClaimResult> {
    const record: StartedRecord = {
      commandId: command.commandId, startedAt: new Date().toISOString(), workerId, pid: process.pid, command,
    };
    let handle;
    try {
      handle = await open(this.file(command.commandId, 'started'), 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const existing = await this.lookup(command.commandId);
      // The started file exists, so lookup cannot return undefined; keep the type honest anyway.
      return { claimed: false, existing: existing ?? { state: 'started', started: undefined } };
    }
    try {
      await handle.writeFile(JSON.stringify(record));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsyncDir(this.dir);
    return { claimed: true };
  }

  async recordResult(result: ResultMessage): Promise<void> {
    const final = this.file(result.commandId, 'result');
    const tmp = `${final}.${process.pid}.tmp`;
    const h = await open(tmp, 'w');
    try {
      await h.writeFile(JSON.stringify(ResultMessage.parse(result)));
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, final);
    await fsyncDir(this.dir);
  }

  async lookup(commandId: string): Promise<JournalEntry | undefined> {
    const started = await readJson(this.file(commandId, 'started'));
    const result = await readJson(this.file(commandId, 'result'));
    const startedRecord = started.exists ? StartedRecord.safeParse(started.value).data : undefined;
    if (result.exists) {
      return { state: 'finished', started: startedRecord, result: ResultMessage.parse(result.value) };
    }
    if (started.exists) return { state: 'started', started: startedRecord };
    return undefined;
  }

  /** Temp files are results that were never renamed into place: the crash came first. */
  private async removeStaleTemps(): Promise<void> {
    for (const name of await readdir(this.dir)) {
      if (name.endsWith('.tmp')) await unlink(path.join(this.dir, name)).catch(() => undefined);
    }
  }
}

async function readJson(file: string): Promise<{ exists: false } | { exists: true; value: unknown }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false };
    throw err;
  }
  try {
    return { exists: true, value: JSON.parse(text) as unknown };
  } catch {
    // A started file torn by a crash during its first write still proves the claim.
    return { exists: true, value: undefined };
  }
}
