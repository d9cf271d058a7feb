// The records keys of the Persistent Chat log tail (the catalog's log-tail module exports only
// commands): the backups a run found unapplied, and those it restored, which the RPO reads.
export const LOG_TAIL_RECORD = 'pchat.unappliedLogs';
export const LOG_TAIL_RESTORED = 'pchat.logTailRestored';
