// The functions the benchmarks run: no-op work, so the figures measure the engine and storage.
import * as df from 'durable-functions';

const noop = df.app.activity('benchNoop', { handler: () => null });
const pause = df.app.activity('benchPause', { handler: (ms: number) => new Promise((r) => setTimeout(() => r(ms), ms)) });

df.app.orchestration('benchSequence', function* (context) {
  const n = context.df.getInput<number>();
  for (let i = 0; i < n; i++) yield noop(i);
  return n;
});

df.app.orchestration('benchFanout', function* (context) {
  const n = context.df.getInput<number>();
  yield context.df.Task.all(Array.from({ length: n }, (_, i) => noop(i)));
  return n;
});

df.app.orchestration('benchSlowSequence', function* (context) {
  const { steps, ms } = context.df.getInput<{ steps: number; ms: number }>();
  for (let i = 0; i < steps; i++) yield pause(ms);
  return steps;
});
