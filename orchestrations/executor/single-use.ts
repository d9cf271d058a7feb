// Executor version 8: a signed event counts once. Its single-use id (`nonce`, added by the API when
// it signs) is taken by the run or gate it is for; the same event raised again (captured from
// history or a log) is refused as replayed. The ids taken live in the orchestration's own memory,
// rebuilt identically on every replay from the same events in the same order: deterministic, no I/O.
export class TakenNonces {
  private readonly taken = new Set<string>();

  /** Why the event does not count (no nonce, or one already taken), or undefined: taken now. */
  take(event: unknown): string | undefined {
    const nonce = event && typeof event === 'object' ? (event as { nonce?: unknown }).nonce : undefined;
    if (typeof nonce !== 'string' || nonce === '') return 'the event has no single-use id (nonce)';
    if (this.taken.has(nonce)) return `replayed: an event with this single-use id (${nonce.slice(0, 40)}) was already taken by this run`;
    this.taken.add(nonce);
    return undefined;
  }
}
