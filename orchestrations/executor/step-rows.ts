// Which step rows the run still has to write. The executor keeps every step's status in memory
// and publishes only a summary (customStatus); a step whose status changed since its row was last
// handed to an activity is taken here, with the next value of the run's write counter. It is
// replayed like everything else in the orchestrator, so a replay hands out the same rows.
import type { RunStatus, StepRow, StepStatus } from '../../shared/runs/contract.js';

/**
 * What a row was when it was last taken. The rendered command (up to tens of KB: a batch of 500
 * users) is kept by reference and compared as a string, not serialized again: the tracker runs on
 * every activity call of every replay, so serializing whole steps each time grows with the square
 * of the run's length.
 */
interface Taken { rest: string; rendered: string | undefined }
const takenOf = (st: StepStatus): Taken => {
  const { rendered, ...rest } = st;
  return { rest: JSON.stringify(rest), rendered };
};
const same = (a: Taken | undefined, b: Taken) => a !== undefined && a.rendered === b.rendered && a.rest === b.rest;

export class StepRowTracker {
  private readonly sent = new Map<string, Taken>();
  private seq = 0;
  constructor(private readonly status: RunStatus) {}

  /** The plan builder wrote every step's first row (write counter 0). */
  assumeWritten(): void {
    for (const id of this.status.order) this.sent.set(id, takenOf(this.status.steps[id]));
  }

  /** Rows an activity failed to write: taken again by the next carrier. */
  forget(rows: StepRow[]): void {
    for (const r of rows) this.sent.delete(r.stepId);
  }

  /** The rows that changed since they were last taken; they count as written from now on. */
  take(): StepRow[] {
    const rows: StepRow[] = [];
    let seq: number | undefined;
    this.status.order.forEach((id, index) => {
      const st = this.status.steps[id];
      const taken = takenOf(st);
      if (same(this.sent.get(id), taken)) return;
      seq ??= ++this.seq;
      rows.push({ ...st, stepId: id, index, seq });
      this.sent.set(id, taken);
    });
    return rows;
  }
}
