// Which step rows the run still has to write. The executor keeps every step's status in memory
// and publishes only a summary (customStatus); a step whose status changed since its row was last
// handed to an activity is taken here, with the next value of the run's write counter. It is
// replayed like everything else in the orchestrator, so a replay hands out the same rows.
import type { RunStatus, StepRow } from '../../shared/runs/contract.js';

export class StepRowTracker {
  private readonly sent = new Map<string, string>();
  private seq = 0;
  constructor(private readonly status: RunStatus) {}

  /** The plan builder wrote every step's first row (write counter 0). */
  assumeWritten(): void {
    for (const id of this.status.order) this.sent.set(id, JSON.stringify(this.status.steps[id]));
  }

  pending(): boolean {
    return this.status.order.some((id) => this.sent.get(id) !== JSON.stringify(this.status.steps[id]));
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
      const json = JSON.stringify(st);
      if (this.sent.get(id) === json) return;
      seq ??= ++this.seq;
      rows.push({ ...st, stepId: id, index, seq });
      this.sent.set(id, json);
    });
    return rows;
  }
}
