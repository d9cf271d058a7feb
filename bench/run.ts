// npm run bench: engine figures on this machine, printed and written to bench/results/latest.json.
//   stepMs       median time per step of a 200-step sequence of no-op activities
//   floorMs      the raw Azurite operations one step needs, timed in the same run
//   fanout1000S  fan-out / fan-in of 1,000 no-op activities
//   replay       one episode's replay cost against history length, with the fitted slope
//   resumeS      from a host restart after kill -9 to the next step dispatched
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAzurite } from '../local/azurite.js';
import { startHost } from '../local/host.js';
import { LocalSettings } from '../local/settings.js';
import { runEpisode, type OrchestratorHandler } from '../local/engine/replay.js';
import { EventType, type HistoryEvent } from '../local/engine/history.js';
import { TaskHubStore } from '../local/engine/store.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const progress = (m: string) => process.stderr.write(`[bench] ${m}\n`);

async function http(url: string, method = 'GET', body?: unknown) {
  const r = await fetch(url, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, body: await r.json().catch(() => undefined) as any };
}

async function run(base: string, name: string, input: unknown, timeoutMs = 300_000) {
  const started = performance.now();
  const r = await http(`${base}/orchestrators/${name}`, 'POST', input);
  const id = r.body.id as string;
  for (;;) {
    const s = await http(`${base}/instances/${id}?showHistory=true`);
    if (['Completed', 'Failed', 'Terminated'].includes(s.body.runtimeStatus)) {
      if (s.body.runtimeStatus !== 'Completed') throw new Error(`${name} ${s.body.runtimeStatus}: ${JSON.stringify(s.body.output)}`);
      return { id, seconds: (performance.now() - started) / 1000, history: s.body.historyEvents as Array<{ EventType: string; Timestamp: string }> };
    }
    if (performance.now() - started > timeoutMs) throw new Error(`${name} did not finish in ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

function fit(xs: number[], ys: number[]) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2; syy += (ys[i] - my) ** 2; }
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: (sxy * sxy) / (sxx * syy) };
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-bench-'));
  const azurite = await startAzurite({ location: dir, freePorts: true });
  process.env.AzureWebJobsStorage = azurite.connectionString;
  const results: Record<string, unknown> = { machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: round(os.totalmem() / 2 ** 30, 1), node: process.version, platform: `${os.platform()} ${os.release()}` }, at: new Date().toISOString() };
  try {
    const hub = `Bench${Date.now()}`;
    const host = await startHost({ entry: path.join(root, 'dist/bench/app.js'), root, port: 0, hubName: hub, settings: LocalSettings.parse({}), triggers: false, log: () => undefined });
    const base = `${host.url}/runtime/webhooks/durabletask`;
    try {
      progress('warm-up');
      await run(base, 'benchSequence', 20);

      progress('stepMs: 200 sequential no-op activities');
      const seq = await run(base, 'benchSequence', 200);
      const scheduled = seq.history.filter((e) => e.EventType === 'TaskScheduled').map((e) => Date.parse(e.Timestamp));
      const gaps = scheduled.slice(1).map((t, i) => t - scheduled[i]);
      const stepMs = median(gaps);

      progress('floorMs: the storage operations of one step, raw');
      const store = new TaskHubStore(azurite.connectionString, `${hub}Floor`);
      await store.init();
      const floor: number[] = [];
      let etag = await store.commit({ instanceId: 'floor', name: 'x', status: 'Running', executionId: 'e', createdTime: '', lastUpdatedTime: '', episode: 0 }, undefined, undefined);
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        // One step needs: the episode's commit (history row + sentinel, one transaction) and the
        // work item's queue write. The completion reaches the dispatcher in-process; deletes and
        // index updates happen off the critical path.
        etag = await store.commit({ instanceId: 'floor', name: 'x', status: 'Running', executionId: 'e', createdTime: '', lastUpdatedTime: '', episode: i }, etag, [{ EventType: EventType.TaskScheduled, EventId: i, IsPlayed: false, Timestamp: new Date().toISOString(), Name: 'benchNoop' }]);
        await store.send('workitems', { t: 'w', id: 'floor', x: 'e', task: i, name: 'benchNoop', m: randomUUID() }, 30);
        floor.push(performance.now() - t0);
      }
      const floorMs = median(floor);
      results.stepMs = round(stepMs);
      results.floorMs = round(floorMs);
      results.stepOverFloor = round(stepMs / floorMs);
      results.sequence200S = round(seq.seconds);

      progress('fanout1000S: 1,000 no-op activities in parallel');
      const fan = await run(base, 'benchFanout', 1000);
      results.fanout1000S = round(fan.seconds);

      progress('replay: one episode against history length');
      const handler = host.registry.get('benchSequence')!.handler as OrchestratorHandler;
      const lengths = [10, 100, 250, 500, 1000, 1500, 2000];
      const points: Array<{ events: number; ms: number }> = [];
      for (const events of lengths) {
        const tasks = Math.floor((events - 3) / 2);
        const t = Date.now();
        const history: HistoryEvent[] = [
          { EventType: EventType.OrchestratorStarted, EventId: -1, IsPlayed: true, Timestamp: new Date(t).toISOString() },
          { EventType: EventType.ExecutionStarted, EventId: -1, IsPlayed: true, Timestamp: new Date(t).toISOString(), Name: 'benchSequence', Input: String(tasks + 1) },
        ];
        for (let i = 0; i < tasks; i++) {
          history.push({ EventType: EventType.TaskScheduled, EventId: i, IsPlayed: true, Timestamp: new Date(t).toISOString(), Name: 'benchNoop', Input: String(i) });
          history.push({ EventType: EventType.TaskCompleted, EventId: -1, IsPlayed: true, Timestamp: new Date(t).toISOString(), TaskScheduledId: i, Result: 'null' });
        }
        const samples: number[] = [];
        for (let k = 0; k < 15; k++) {
          const t0 = performance.now();
          await runEpisode({ instanceId: 'replay', name: 'benchSequence', inputJson: String(tasks + 1), history, newEvents: [], now: new Date(t + 1000), handler });
          samples.push(performance.now() - t0);
        }
        points.push({ events: history.length, ms: round(median(samples), 3) });
      }
      const f = fit(points.map((p) => p.events), points.map((p) => p.ms));
      results.replay = { points, slopeMsPerEvent: round(f.slope, 5), interceptMs: round(f.intercept, 3), r2: round(f.r2, 4) };
    } finally {
      await host.stop();
    }

    progress('resumeS: kill -9 mid-run, restart, time to the next step');
    const rhub = `Resume${Date.now()}`;
    const spawnHost = () => {
      const child = spawn(process.execPath, [path.join(root, 'dist/local/host-main.js'), '--entry', path.join(root, 'dist/bench/app.js'), '--root', root, '--port', '0', '--hub', rhub, '--no-triggers'], { env: { ...process.env, LYNCDR_QUIET: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
      const ready = new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d) => { out += String(d); const l = out.split('\n').find((x) => x.includes('"listening"')); if (l) resolve(JSON.parse(l).url); });
        child.once('exit', (c) => reject(new Error(`host exited ${c}`)));
      });
      return { child, ready };
    };
    const samples: number[] = [];
    for (let k = 0; k < 3; k++) {
      const h1 = spawnHost();
      const url1 = await h1.ready;
      const r = await http(`${url1}/runtime/webhooks/durabletask/orchestrators/benchSlowSequence`, 'POST', { steps: 50, ms: 100 });
      await new Promise((res) => setTimeout(res, 700));
      await new Promise<void>((res) => { h1.child.once('exit', () => res()); h1.child.kill('SIGKILL'); });
      const restartAt = Date.now();
      const h2 = spawnHost();
      const url2 = await h2.ready;
      let resumed: number | undefined;
      while (resumed === undefined) {
        const s = await http(`${url2}/runtime/webhooks/durabletask/instances/${r.body.id}?showHistory=true`);
        const next = (s.body.historyEvents as Array<{ EventType: string; Timestamp: string }>).find((e) => e.EventType === 'TaskScheduled' && Date.parse(e.Timestamp) >= restartAt);
        if (next) resumed = Date.parse(next.Timestamp) - restartAt;
        else await new Promise((res) => setTimeout(res, 10));
      }
      samples.push(resumed / 1000);
      await new Promise<void>((res) => { h2.child.once('exit', () => res()); h2.child.kill('SIGTERM'); });
    }
    results.resumeS = round(median(samples));
    results.resumeSamplesS = samples.map((s) => round(s));
  } finally {
    await azurite.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const targets = { stepMs: 10, stepOverFloor: 2, fanout1000S: 5, resumeS: 2 };
  const replay = results.replay as { slopeMsPerEvent: number; r2: number };
  const rows: Array<[string, string, string, string]> = [
    ['stepMs', String(results.stepMs), `<= ${targets.stepMs}`, Number(results.stepMs) <= targets.stepMs ? 'met' : 'missed'],
    ['floorMs', String(results.floorMs), '-', '-'],
    ['stepMs / floorMs', String(results.stepOverFloor), `<= ${targets.stepOverFloor}`, Number(results.stepOverFloor) <= targets.stepOverFloor ? 'met' : 'missed'],
    ['fanout1000S', String(results.fanout1000S), `<= ${targets.fanout1000S}`, Number(results.fanout1000S) <= targets.fanout1000S ? 'met' : 'missed'],
    ['replay slope (ms/event)', `${replay.slopeMsPerEvent} (R² ${replay.r2})`, 'linear', replay.r2 >= 0.9 ? 'linear' : 'not linear'],
    ['resumeS', String(results.resumeS), `<= ${targets.resumeS}`, Number(results.resumeS) <= targets.resumeS ? 'met' : 'missed'],
  ];
  const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), ['figure', 'value', 'target', ''][i].length));
  console.log(['figure', 'value', 'target', 'verdict'].map((h, i) => h.padEnd(w[i])).join('  '));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join('  '));
  console.log(`replay points: ${(results.replay as { points: Array<{ events: number; ms: number }> }).points.map((p) => `${p.events}:${p.ms}ms`).join(' ')}`);
  console.log(`machine: ${JSON.stringify(results.machine)}`);
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  // The failover benchmark's figures (siteFailover) stay: each benchmark replaces only its own.
  const out = path.join(root, 'bench/results/latest.json');
  const previous = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>) : {};
  writeFileSync(out, JSON.stringify({ ...(previous.siteFailover ? { siteFailover: previous.siteFailover } : {}), ...results }, null, 2));
  console.log('written: bench/results/latest.json');
  process.exit(0);
}

main().catch((err) => { console.error(err); process.exit(1); });
