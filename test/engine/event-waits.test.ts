// Executor version 11 (orchestrations/executor/tasks.ts, oneWaiterPerEvent): two events of one
// name in one batch, the second arriving while the orchestrator is busy with the first. The run's
// scheduler yields the same open wait in several Task.any calls; the real SDK then lists that wait
// more than once, and without the fix the second event goes to the answered copy and is lost.
// Episodes are replayed by the SDK's own executor over hand-fed histories (no host, no storage).
import { describe, expect, it } from 'vitest';
import * as df from 'durable-functions';
import '../../local/host.js'; // installs the functions-core stand-in before any registration
import { installFunctionsCore } from '../../local/functions-core.js';
import { runEpisode, type EpisodeResult, type OrchestratorHandler } from '../../local/engine/replay.js';
import { EventType, type HistoryEvent } from '../../local/engine/history.js';
import { anyOf } from '../../orchestrations/executor/tasks.js';

const registry = installFunctionsCore();
df.app.activity('eventWaitsStep', { handler: (x: unknown) => x });

/**
 * The scheduler's shape in small: a wait for `confirm` beside another task (a step's activity), a
 * second Task.any over the same still-open wait, then an activity after the first confirmation (as
 * the run verifies it) and a fresh wait for the next one.
 */
df.app.orchestration('eventWaitsTwoConfirms', function* (context) {
  const { oneWaiterPerEvent } = context.df.getInput<{ oneWaiterPerEvent: boolean }>();
  const never = context.df.callActivity('eventWaitsStep', 'never answered');
  let confirm = context.df.waitForExternalEvent('confirm');
  yield anyOf(context, [confirm, context.df.callActivity('eventWaitsStep', 'other step'), never], { oneWaiterPerEvent });
  yield anyOf(context, [confirm, never], { oneWaiterPerEvent });
  const first = confirm.result;
  yield context.df.callActivity('eventWaitsStep', 'verify the first');
  confirm = context.df.waitForExternalEvent('confirm');
  yield anyOf(context, [confirm, never], { oneWaiterPerEvent });
  return [first, confirm.result];
});
const handler = registry.get('eventWaitsTwoConfirms')!.handler as OrchestratorHandler;

const at = '2026-01-01T00:00:00.000Z';
const done = (id: number, result: unknown): HistoryEvent => ({ EventType: EventType.TaskCompleted, EventId: -1, IsPlayed: false, Timestamp: at, TaskScheduledId: id, Result: JSON.stringify(result) });
const raised = (name: string, input: unknown): HistoryEvent => ({ EventType: EventType.EventRaised, EventId: -1, IsPlayed: false, Timestamp: at, Name: name, Input: JSON.stringify(input) });

/** Runs episodes one after another, each over the history the earlier ones appended. */
async function episodes(oneWaiterPerEvent: boolean, batches: Array<(r: EpisodeResult) => HistoryEvent[]>): Promise<EpisodeResult[]> {
  const inputJson = JSON.stringify({ oneWaiterPerEvent });
  const history: HistoryEvent[] = [];
  let newEvents: HistoryEvent[] = [{ EventType: EventType.ExecutionStarted, EventId: -1, IsPlayed: false, Timestamp: at, Input: inputJson }];
  const results: EpisodeResult[] = [];
  for (let i = 0; ; i++) {
    const r = await runEpisode({ instanceId: 'i', name: 'eventWaitsTwoConfirms', inputJson, history, newEvents, now: new Date(at), handler });
    results.push(r);
    history.push(...r.appended.map((e) => ({ ...e, IsPlayed: true })));
    if (i === batches.length) return results;
    newEvents = batches[i](r);
  }
}

const activity = (r: EpisodeResult, input: string) => r.activities.find((a) => a.inputJson === JSON.stringify(input))!.id;

describe('two events of one name, the second while the orchestrator is busy with the first', () => {
  const batches = [
    // The other step finishes, and both confirmations arrive in the same batch.
    (r: EpisodeResult) => [done(activity(r, 'other step'), 'ok'), raised('confirm', { n: 1 }), raised('confirm', { n: 2 })],
    (r: EpisodeResult) => [done(activity(r, 'verify the first'), 'ok')],
  ];

  it('with oneWaiterPerEvent the second confirmation waits for the next wait and is taken', async () => {
    const r = await episodes(true, batches);
    expect(r.at(-1)!.outcome).toEqual({ kind: 'completed', outputJson: JSON.stringify([{ n: 1 }, { n: 2 }]) });
  });

  it("without it (runs before executor version 11) the SDK hands the second to the answered wait: it is lost", async () => {
    const r = await episodes(false, batches);
    expect(r.at(-1)!.outcome.kind).toBe('running');
  });

  it('a second confirmation in the next batch, while the first is verified, is kept for the next wait', async () => {
    const r = await episodes(true, [
      (e) => [done(activity(e, 'other step'), 'ok'), raised('confirm', { n: 1 })],
      (e) => [raised('confirm', { n: 2 }), done(activity(e, 'verify the first'), 'ok')],
    ]);
    expect(r.at(-1)!.outcome).toEqual({ kind: 'completed', outputJson: JSON.stringify([{ n: 1 }, { n: 2 }]) });
  });
});
