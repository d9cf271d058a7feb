// Lists a run's pre-flight read and later steps take in slices (the users legacy-site-dr counted):
// kept whole on the worker's disk, next to its journal, so they never travel through a queue
// message, the orchestration's input or its history. Written once per run and key, atomically.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export class RecordedLists {
  /** The list last read, parsed: a run's 80 batches take from one list of 40,000 (~10 MB of JSON). */
  private last: { file: string; items: unknown[] } | undefined;

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
    this.last = { file, items };
  }

  /** Items from..to (end exclusive), with the list's length; undefined when nothing was kept. */
  async slice(runId: string, key: string, from: number, to: number): Promise<{ items: unknown[]; count: number } | undefined> {
    const file = this.file(runId, key);
    if (this.last?.file === file) return { items: this.last.items.slice(from, to), count: this.last.items.length };
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const all = JSON.parse(text) as unknown[];
    this.last = { file, items: all };
    return { items: all.slice(from, to), count: all.length };
  }
}
