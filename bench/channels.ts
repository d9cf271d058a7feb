// npm run bench:channels: how soon a vote cast in Teams shows on the gate's card. On the local
// stack (fresh Azurite, the host, the workers on the simulated estate) with the Teams stand-in as
// Bot Framework and the Bot Connector and LYNCDR_CHANNELS=teams, it starts GATES runs one after
// the other; at each one's approval gate two approvers press Approve (signed invokes through the
// stand-in), and for each vote it measures the time from the invoke being answered to the
// stand-in having received the card update (a PUT through the notify activity) that shows the
// vote, on every card of the gate (the stand-in has one conversation, so one card). Target:
// median and max <= 2 s. Loopback only; it stops by itself (a bounded number of votes, a timeout
// on each wait). Printed and written to bench/results/latest.json (channels).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../local/azurite.js';
import { ROOT, startStack } from '../local/stack.js';
import type { RecordedCard, TeamsStandin } from '../local/teams-standin.js';

const GATES = Math.min(Math.max(Number(process.env.BENCH_CHANNEL_GATES ?? '10'), 1), 50);
const APPROVERS = ['alice', 'bob'];
const REQUESTER = 'operator';
const RUNBOOK = 'fe-pool-failover';
const OPTIONS = { pool: 'eepool1.contoso.com' };
const TARGET_MS = 2000;
const WAIT_MS = 60_000;
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(10);
  }
}

function api(url: string) {
  return async (user: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${url}/api/${p}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json', 'x-lyncdr-user': user } });
    const t = await res.text();
    try { return { status: res.status, body: t ? JSON.parse(t) : undefined }; } catch { return { status: res.status, body: t }; }
  };
}

/** The gate cards of a run: those first posted with an Approve button. */
const gateCards = (teams: TeamsStandin, runId: string): RecordedCard[] => teams.cards(runId).filter((c) => JSON.stringify(c.history[0].card).includes('"verb":"approve"'));

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-bench-channels-'));
  Object.assign(process.env, {
    LYNCDR_DATA_DIR: dataDir, LYNCDR_SIM_TIME_FACTOR: process.env.BENCH_TIME_FACTOR ?? '0.01', LYNCDR_TASK_HUB: `BenchCh${Date.now().toString(36)}`,
    LYNCDR_CHANNELS: 'teams', LYNCDR_TEAMS_STANDIN: 'on',
    AZURITE_BLOB_PORT: String(await freePort()), AZURITE_QUEUE_PORT: String(await freePort()), AZURITE_TABLE_PORT: String(await freePort()), LYNCDR_HTTP_PORT: String(await freePort()),
  });
  const stack = await startStack({ quietHost: true, quietWorkers: true });
  const teams = stack.teams;
  const samples: Array<{ gate: number; voter: string; ms: number; fromPressMs: number }> = [];
  const started = Date.now();
  try {
    if (!teams) throw new Error('the Teams stand-in did not start');
    const call = api(stack.url);
    for (let g = 0; g < GATES; g++) {
      const start = await call(REQUESTER, 'POST', 'runs', { runbook: RUNBOOK, options: OPTIONS, mode: 'drill' });
      if (start.status !== 202) throw new Error(`start: HTTP ${start.status} ${JSON.stringify(start.body)}`);
      const runId = start.body.runId as string;
      await until(`the gate card of ${runId}`, () => (gateCards(teams, runId).length ? true : undefined));
      for (const voter of APPROVERS) {
        const shows = (c: Record<string, unknown>) => JSON.stringify(c).includes(`${voter}: approve`);
        const pressedAt = Date.now();
        const r = await teams.click({ runId, verb: 'approve', as: voter, comment: 'bench' });
        const answeredAt = Date.now();
        if (r.status !== 200 || !JSON.stringify(r.body).includes('Your approval counted.')) throw new Error(`${voter}'s vote on ${runId}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
        // Every gate card of the run (one per conversation) has received an update showing the vote.
        // The app answers an invoke once the gate has recorded the vote, so the update often
        // arrived before the answer: that counts as 0 ms; fromPressMs is from the invoke's sending.
        const last = await until(`${voter}'s vote on the card of ${runId}`, () => {
          const cards = gateCards(teams, runId);
          const at = cards.map((c) => c.history.find((h) => h.op === 'update' && shows(h.card))?.at);
          if (!cards.length || at.some((a) => a === undefined)) return undefined;
          return Math.max(...at.map((a) => Date.parse(a!)));
        });
        const ms = Math.max(0, last - answeredAt);
        samples.push({ gate: g + 1, voter, ms, fromPressMs: last - pressedAt });
        process.stderr.write(`[bench] gate ${g + 1}/${GATES} ${voter}: ${ms} ms after the answer (${last - pressedAt} ms after the press)\n`);
      }
      // Approved; the rest of the run is not measured: cancel it so that the next run gets the pool's lock.
      const c = await call(REQUESTER, 'POST', `runs/${runId}/cancel`, { reason: 'bench: measured', channel: 'cli' });
      if (c.status >= 300 && c.status !== 409) throw new Error(`cancel ${runId}: HTTP ${c.status} ${JSON.stringify(c.body)}`);
      await until(`the end of ${runId}`, async () => (['Completed', 'Failed', 'Terminated'].includes((await call(REQUESTER, 'GET', `runs/${runId}`)).body?.runtimeStatus) ? true : undefined));
    }
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const ms = samples.map((s) => s.ms);
  const press = samples.map((s) => s.fromPressMs);
  const results = {
    votes: ms.length, gates: GATES, conversations: 1, medianMs: round(median(ms)), maxMs: round(Math.max(...ms)), minMs: round(Math.min(...ms)), targetMs: TARGET_MS,
    met: median(ms) <= TARGET_MS && Math.max(...ms) <= TARGET_MS, samplesMs: ms,
    fromPress: { medianMs: round(median(press)), maxMs: round(Math.max(...press)), samplesMs: press }, machine: { cpus: os.cpus().length, node: process.version }, at: new Date().toISOString(),
  };
  console.log('| figure | value | target | |');
  console.log('| --- | --- | --- | --- |');
  console.log(`| vote answered -> card updated, median | ${results.medianMs} ms | <= ${TARGET_MS} ms | ${results.medianMs <= TARGET_MS ? 'met' : 'missed'} |`);
  console.log(`| vote answered -> card updated, max | ${results.maxMs} ms | <= ${TARGET_MS} ms | ${results.maxMs <= TARGET_MS ? 'met' : 'missed'} |`);
  console.log(`| press (invoke sent) -> card updated, median / max | ${results.fromPress.medianMs} / ${results.fromPress.maxMs} ms | - | |`);
  console.log(`(${results.votes} votes on ${GATES} gates, one conversation; ${Math.round((Date.now() - started) / 1000)} s)`);
  const file = path.join(ROOT, 'bench/results/latest.json');
  const all = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  all.channels = results;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(all, null, 2));
  console.log('written: bench/results/latest.json (channels)');
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
