// Executor version 12: the run's check of a result raised into it (the orchestrator has no keys and
// no crypto). The same rule as the results trigger (shared/results/raised.ts over
// authenticateResult), bound to the one command the run waits for. A refusal is a business
// outcome (ok: false), audited here as the trigger audits one, never a throw: a forged event is
// refused once, and the step keeps waiting for its real result.
import * as df from 'durable-functions';
import { authenticateRaised } from '../../shared/results/raised.js';
import { resultIn } from '../../shared/results/correlated.js';
import { refusedEntry } from '../../shared/results/refused-entry.js';
import { resultKeysFor } from '../../shared/results/signature.js';
import { ACTIVITY, type VerifyResultInput, type VerifyResultOutput } from '../../shared/runs/activities.js';
import { appendAudit } from './runs.js';

export const verifyResultActivity = df.app.activity(ACTIVITY.verifyResult, {
  handler: async (input: VerifyResultInput): Promise<VerifyResultOutput> => {
    const awaited = { runId: input.runId, commandId: input.commandId, stepId: input.stepId, site: input.site, attempt: input.attempt };
    const verdict = await authenticateRaised(input.event, awaited, (site) => resultKeysFor(site));
    if (verdict.ok) return { ok: true };
    const { runId: _run, ...waitedFor } = awaited;
    await appendAudit(refusedEntry({ runId: input.runId, commandId: input.commandId, body: input.event, result: resultIn(input.event)?.result,
      refusal: verdict.refusal, reason: verdict.reason, at: input.at, awaited: waitedFor }));
    return { ok: false, refusal: verdict.refusal, reason: verdict.reason };
  },
});
