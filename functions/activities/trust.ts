// Executor version 5: the checks the orchestrators cannot make themselves (no crypto, no settings
// in an orchestrator). verifyDecision: was this vote, confirmation, decision or cancel signed by
// the API for this run and target? checkStart: was this run's input signed by the API, and what
// configuration (approval policies, operators, time-outs, queues) does the run use: read here, from
// the app's settings, recorded in the run's history as this activity's result and in its audit
// trail, never taken from the input. Answers are business outcomes (ok: false), never throws, so a
// forged event or input is refused once instead of retried.
import * as df from 'durable-functions';
import { appSettings, runConfigFrom } from '../../shared/config/index.js';
import {
  ACTIVITY, type CheckStartInput, type CheckStartOutput, type VerifyDecisionInput, type VerifyDecisionOutput,
} from '../../shared/runs/activities.js';
import { decisionKey, signatureRefusal, staleRefusal } from '../runs/signing.js';
import { appendAudit } from './runs.js';

export const verifyDecisionActivity = df.app.activity(ACTIVITY.verifyDecision, {
  handler: (input: VerifyDecisionInput): VerifyDecisionOutput => {
    let key: string;
    try { key = decisionKey(); } catch (err) { return { ok: false, reason: (err as Error).message }; }
    const refused = signatureRefusal(key, { kind: input.kind, runId: input.runId, target: input.target }, input.event);
    if (refused) return { ok: false, reason: refused };
    // Freshness against this activity's clock (the orchestrator has none of its own to offer):
    // a captured event raised again later does not count even if its nonce is new to the run.
    const stale = input.fresh ? staleRefusal(input.event as Record<string, unknown>, new Date(), appSettings().decisionMaxAgeMinutes) : undefined;
    return stale ? { ok: false, reason: stale, code: 'stale' } : { ok: true };
  },
});

const runIdOf = (input: unknown) => (input && typeof input === 'object' && typeof (input as { runId?: unknown }).runId === 'string' ? (input as { runId: string }).runId : '');

export const checkStartActivity = df.app.activity(ACTIVITY.checkStart, {
  handler: async (i: CheckStartInput): Promise<CheckStartOutput> => {
    const runId = runIdOf(i.input);
    let key: string;
    try { key = decisionKey(); } catch (err) { return { ok: false, reason: (err as Error).message }; }
    const refused = signatureRefusal(key, { kind: 'run', runId, target: 'run' }, i.input);
    // The run records the refusal as its end (run:end), with this reason.
    if (refused) return { ok: false, reason: `this run was not started by the lyncdr API (${refused}): it does nothing` };
    const s = appSettings();
    const { executorVersion: _v, ...config } = runConfigFrom(s);
    await appendAudit({ runId, key: 'run:config', kind: 'run-declared', actor: 'lyncdr', at: i.at,
      data: { configuration: 'app settings, read when the run started', ...config, operators: s.operators ?? 'anyone signed in' } });
    return { ok: true, config, ...(s.operators ? { operators: s.operators } : {}) };
  },
});
