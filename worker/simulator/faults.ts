// Fault injection for drills and tests: the next N executions of a command fail, hang, run slow
// or kill the worker process mid-command. Kept in a file beside the state so `lyncdr lab fault`
// can arm a fault while the worker runs; the worker reads it at every execution.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { withFileLock } from './file-lock.js';
import path from 'node:path';
import { z } from 'zod';

export const FaultKind = z.enum(['fail', 'hang', 'slow', 'crash']);
export type FaultKind = z.infer<typeof FaultKind>;

export const Fault = z.object({
  /** Catalog name (pool.failover), cmdlet (Invoke-CsPoolFailover) or `*` for any command. */
  command: z.string().min(1),
  kind: FaultKind,
  /** Executions still to be affected. */
  remaining: z.number().int().positive(),
  /** For `slow`: how many times the normal duration. */
  factor: z.number().positive().default(10),
});
export type Fault = z.infer<typeof Fault>;

const FaultFile = z.object({ faults: z.array(Fault) });

export class FaultStore {
  private lock: Promise<unknown> = Promise.resolve();
  constructor(readonly file: string) {}

  async list(): Promise<Fault[]> {
    try {
      return FaultFile.parse(JSON.parse(await readFile(this.file, 'utf8'))).faults;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  private async write(faults: Fault[]): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const h = await open(tmp, 'w');
    try {
      await h.writeFile(JSON.stringify({ faults }, null, 2));
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, this.file);
  }

  /** One at a time in this process, and under the file's lock across processes. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const locked = () => withFileLock(this.file, fn);
    const next = this.lock.then(locked, locked);
    this.lock = next.catch(() => undefined);
    return next;
  }

  add(fault: z.input<typeof Fault>): Promise<void> {
    const parsed = Fault.parse(fault);
    return this.serial(async () => this.write([...(await this.list()), parsed]));
  }

  clear(): Promise<void> {
    return this.serial(() => this.write([]));
  }

  /** Consumes one use of the first fault that matches this command, if any. */
  take(names: readonly string[]): Promise<Fault | undefined> {
    const wanted = names.map((n) => n.toLowerCase());
    const matches = (f: Fault) => f.command === '*' || wanted.includes(f.command.toLowerCase());
    // Most commands meet no fault: only a match is worth the lock (and is looked for again under it).
    return this.list().then((all) => (!all.some(matches) ? undefined : this.serial(async () => {
      const faults = await this.list();
      const i = faults.findIndex(matches);
      if (i < 0) return undefined;
      const hit = faults[i];
      if (hit.remaining <= 1) faults.splice(i, 1);
      else faults[i] = { ...hit, remaining: hit.remaining - 1 };
      await this.write(faults);
      return hit;
    })));
  }
}
