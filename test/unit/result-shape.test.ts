// Which parseable results are impossible as the answer to their command (executor version 10
// treats them as malformed): every shape our worker sends passes, each contradiction is named.
import { describe, expect, it } from 'vitest';
import type { ResultMessage } from '../../shared/messages.js';
import { impossibleShape } from '../../orchestrations/executor/result-shape.js';

const base: ResultMessage = { v: 1, commandId: 'run-1:step:1', runId: 'run-1', stepId: 'step', site: 'west', workerId: 'w', status: 'succeeded', finishedAt: '2026-12-02T07:00:00.000Z', duplicate: false, attempt: 1 };
const check = { status: 'succeeded' as const, startedAt: base.finishedAt, finishedAt: base.finishedAt };

describe('impossibleShape', () => {
  it('passes what workers send: a success (with the check it asked for), each failure with its error', () => {
    expect(impossibleShape({ ...base, output: [] }, false)).toBeUndefined();
    expect(impossibleShape({ ...base, verification: check }, true)).toBeUndefined();
    expect(impossibleShape({ ...base, status: 'failed', error: { kind: 'precondition', message: 'no' } }, true)).toBeUndefined();
    expect(impossibleShape({ ...base, status: 'rejected', error: { kind: 'unknown-command', message: 'no' } }, false)).toBeUndefined();
    expect(impossibleShape({ ...base, status: 'outcome-unknown', error: { kind: 'outcome-unknown', message: 'stopped' } }, false)).toBeUndefined();
  });

  it('names each contradiction', () => {
    expect(impossibleShape({ ...base, error: { kind: 'execution', message: 'x' } }, false)).toBe('status succeeded with an error (execution)');
    expect(impossibleShape({ ...base, status: 'timeout' }, false)).toBe('status timeout without an error saying why');
    expect(impossibleShape({ ...base, status: 'outcome-unknown', error: { kind: 'execution', message: 'x' } }, false)).toBe('status outcome-unknown with error kind execution');
    expect(impossibleShape({ ...base, verification: check }, false)).toBe('a verification the command did not ask for');
    expect(impossibleShape({ ...base, status: 'failed', error: { kind: 'execution', message: 'x' }, verification: check }, true)).toBe('a verification after status failed (a check runs only after success)');
  });
});
