// Lists a run's pre-flight read and later steps take in slices (the users legacy-site-dr counted):
// kept whole on the worker's disk, next to its journal, so they never travel through a queue
// message, the orchestration's input or its history. Written once per run and key, atomically.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export class RecordedLists {
  constructor(private readonly dir: string) {}

  private file(runId: string, key: string): string {
    return path.join(this.dir, `${createHash('sha256').update(`${runId}\n${key}`).digest('hex').slice(0, 40)}.json`);
  }

  async keep(runId: string, key: string, items: unknown[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = this.file(runId, key);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(items));
    await rename(tmp, file);
  }

  /** Items from..to (end exclusive), with the list's length; undefined when nothing was kept. */
  async slice(runId: string, key: string, from: number, to: number): Promise<{ items: unknown[]; count: number } | undefined> {
    let text: string;
    try {
      text = await readFile(this.file(runId, key), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const all = JSON.parse(text) as unknown[];
    return { items: all.slice(from, to), count: all.length };
  }
}
