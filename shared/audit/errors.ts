// Audit failures are classified so callers can react correctly: a Durable activity retries only
// what may succeed on a second attempt (contention), and the CLI maps user errors (unknown run,
// bad input) to exit code 2 instead of reporting "tampered".

/** Base class: every audit error says whether retrying the same call can help. */
export abstract class AuditError extends Error {
  abstract readonly retryable: boolean;
}

/** The input cannot be audited as given (bad key, bad kind, non-JSON data). Not retryable. */
export class AuditInputError extends AuditError {
  override name = 'AuditInputError';
  readonly retryable = false;
}

/** The entry would exceed an Azure Table Storage limit even after splitting. Not retryable. */
export class AuditLimitError extends AuditError {
  override name = 'AuditLimitError';
  readonly retryable = false;
}

/** The key was already appended with different content: two writers disagree about history. */
export class AuditConflictError extends AuditError {
  override name = 'AuditConflictError';
  readonly retryable = false;
  constructor(message: string, readonly runId: string, readonly key: string, readonly differences: string[]) {
    super(message);
  }
}

/** Too many concurrent appenders won the race for too long; a later retry may succeed. */
export class AuditContentionError extends AuditError {
  override name = 'AuditContentionError';
  readonly retryable = true;
}

/** No row at all exists for the run (a typo in the run id, or the wrong table / account). */
export class AuditRunNotFoundError extends AuditError {
  override name = 'AuditRunNotFoundError';
  readonly retryable = false;
  constructor(readonly runId: string, table: string) {
    super(`no audit trail for run "${runId}" in table ${table}`);
  }
}

/** Stored rows cannot be used to append (broken index, mixed hash algorithms): run verify. */
export class AuditCorruptError extends AuditError {
  override name = 'AuditCorruptError';
  readonly retryable = false;
}

/** Configuration does not fit the stored trail (e.g. an HMAC-protected run and no key). */
export class AuditConfigError extends AuditError {
  override name = 'AuditConfigError';
  readonly retryable = false;
}
