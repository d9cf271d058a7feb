// The Durable HTTP management API answers as the extension's HttpApiHandler does: status codes,
// headers, field names, timestamp formats, lenient query parsing, case-insensitive routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalHost } from '../../local/host.js';
import { api, startTestHost, type Api } from '../support/host.js';

let host: LocalHost;
let a: Api;

beforeAll(async () => {
  host = await startTestHost();
  a = api(host);
});
afterAll(async () => { await host?.stop(); });

/** DateTime.ToString("s") + "Z", as the extension writes createdTime and lastUpdatedTime. */
const STATUS_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
/** Json.NET's ISO format: a fraction only when there is one, without trailing zeros. */
const HISTORY_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/;

describe('instance status', () => {
  it('returns the history as historyEvents, never as history', async () => {
    const id = await a.start('chain');
    await a.waitFor(id);
    const r = await a.call('GET', `instances/${id}?showHistory=true&showHistoryOutput=true`);
    expect(r.status).toBe(200);
    expect(r.body).not.toHaveProperty('history');
    expect(r.body.historyEvents.map((e: any) => e.EventType)).toEqual(expect.arrayContaining(['ExecutionStarted', 'TaskCompleted', 'ExecutionCompleted']));
    expect(r.body.historyEvents.find((e: any) => e.EventType === 'TaskCompleted').Result).toBe('step-0');
    // Without showHistory there is no history field of either name.
    const plain = await a.call('GET', `instances/${id}`);
    expect(Object.keys(plain.body)).toEqual(['name', 'instanceId', 'runtimeStatus', 'input', 'customStatus', 'output', 'createdTime', 'lastUpdatedTime']);
  });

  it('writes timestamps as the extension does', async () => {
    const id = await a.start('retrying', { key: `ts-${Date.now()}`, failTimes: 1, maxAttempts: 3 });
    await a.waitFor(id);
    const r = await a.call('GET', `instances/${id}?showHistory=true`);
    expect(r.body.createdTime).toMatch(STATUS_TIME);
    expect(r.body.lastUpdatedTime).toMatch(STATUS_TIME);
    const times = r.body.historyEvents.flatMap((e: any) => [e.Timestamp, e.ScheduledTime, e.FireAt].filter((t) => t !== undefined));
    expect(times.length).toBeGreaterThan(4);
    for (const t of times) expect(t).toMatch(HISTORY_TIME);
    expect(r.body.historyEvents.some((e: any) => e.FireAt)).toBe(true);
    const listed = await a.call('GET', `instances/?instanceIdPrefix=${id}`);
    expect(listed.body[0].createdTime).toMatch(STATUS_TIME);
    expect(listed.body[0]).not.toHaveProperty('historyEvents');
  });

  it('answers 202 with Location and Retry-After while the instance runs', async () => {
    const id = await a.start('waitForever');
    await a.waitFor(id, (s) => s.runtimeStatus === 'Running');
    const url = `${a.base}/instances/${id}?showInput=true`;
    const res = await fetch(url);
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(url);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(((await res.json()) as { runtimeStatus: string }).runtimeStatus).toBe('Running');
    await a.call('POST', `instances/${id}/terminate`);
  });

  it('answers 200 for Failed and Terminated instances; 500 for Failed only with returnInternalServerErrorOnFailure', async () => {
    const failed = await a.start('failing');
    await a.waitFor(failed);
    const f = await a.call('GET', `instances/${failed}`);
    expect(f.status).toBe(200);
    expect(f.body.runtimeStatus).toBe('Failed');
    expect(f.headers.get('location')).toBeNull();
    const f500 = await a.call('GET', `instances/${failed}?returnInternalServerErrorOnFailure=true`);
    expect(f500.status).toBe(500);
    expect(f500.body.runtimeStatus).toBe('Failed');

    const terminated = await a.start('waitForever');
    await a.waitFor(terminated, (s) => s.runtimeStatus === 'Running');
    expect((await a.call('POST', `instances/${terminated}/terminate?reason=done`)).status).toBe(202);
    await a.waitFor(terminated);
    for (const q of ['', '?returnInternalServerErrorOnFailure=true']) {
      const t = await a.call('GET', `instances/${terminated}${q}`);
      expect({ q, status: t.status, runtimeStatus: t.body.runtimeStatus }).toEqual({ q, status: 200, runtimeStatus: 'Terminated' });
    }
  });
});

describe('starting', () => {
  it('answers 400 for an unknown orchestrator and 202 with the check-status payload otherwise', async () => {
    const unknown = await a.call('POST', 'orchestrators/noSuchOrchestrator', '');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/no orchestrator function named 'noSuchOrchestrator'/);
    const r = await a.call('POST', 'orchestrators/chain', '');
    expect(r.status).toBe(202);
    expect(Object.keys(r.body).sort()).toEqual(['id', 'purgeHistoryDeleteUri', 'restartPostUri', 'resumePostUri', 'sendEventPostUri', 'statusQueryGetUri', 'suspendPostUri', 'terminatePostUri']);
    expect(r.headers.get('location')).toBe(r.body.statusQueryGetUri);
    expect(r.headers.get('retry-after')).toBe('10');
  });

  it('with timeout and pollingInterval waits for completion and answers 200 with the output', async () => {
    const r = await a.call('POST', 'orchestrators/chain?timeout=30&pollingInterval=0.05', '');
    expect(r.status).toBe(200);
    expect(r.body).toEqual(['step-0', 'step-1', 'step-2', 'step-3', 'step-4']);
  });

  it('with timeout and pollingInterval answers a failed instance with its status (200)', async () => {
    const r = await a.call('POST', 'orchestrators/failing?timeout=30&pollingInterval=0.05', '');
    expect(r.status).toBe(200);
    expect(r.body.runtimeStatus).toBe('Failed');
    expect(r.body.createdTime).toMatch(STATUS_TIME);
  });

  it('answers 202 with the check-status payload when the timeout passes first', async () => {
    const startedAt = performance.now();
    const r = await a.call('POST', 'orchestrators/waitForever?timeout=0.4&pollingInterval=0.1', '');
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(400);
    expect(r.status).toBe(202);
    expect(r.body.statusQueryGetUri).toContain(`/instances/${r.body.id}`);
    expect(r.headers.get('location')).toBe(r.body.statusQueryGetUri);
    expect((await a.status(r.body.id)).runtimeStatus).toBe('Running');
    await a.call('POST', `instances/${r.body.id}/terminate`);
  });

  it('refuses a polling interval longer than the timeout with 400', async () => {
    const r = await a.call('POST', 'orchestrators/chain?timeout=1&pollingInterval=5', '');
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/timeout/);
  });
});

describe('raising an event', () => {
  it('checks the instance first (404, 410), then the media type (application/json), then the JSON', async () => {
    expect((await a.call('POST', 'instances/no-such-instance/raiseEvent/vote', '{broken')).status).toBe(404);
    const done = await a.start('chain');
    await a.waitFor(done);
    expect((await a.call('POST', `instances/${done}/raiseEvent/vote`, '{broken')).status).toBe(410);
    const id = await a.start('collect', 1);
    await a.waitFor(id, (s) => s.runtimeStatus === 'Running');
    const plain = await fetch(`${a.base}/instances/${id}/raiseEvent/vote`, { method: 'POST', body: '"text"', headers: { 'content-type': 'text/plain' } });
    expect(plain.status).toBe(400);
    expect(await plain.text()).toMatch(/Only application\/json/);
    expect((await a.call('POST', `instances/${id}/raiseEvent/vote`, '{broken')).status).toBe(400);
    const withCharset = await fetch(`${a.base}/instances/${id}/raiseEvent/vote`, { method: 'POST', body: '"yes"', headers: { 'content-type': 'Application/JSON; charset=utf-8' } });
    expect(withCharset.status).toBe(202);
    expect((await a.waitFor(id)).output).toEqual(['yes']);
  });
});

describe('purge by filter', () => {
  it('needs createdTimeFrom: 400 without, 200 with the count, 404 when nothing matched', async () => {
    const from = new Date(Date.now() - 1000).toISOString();
    const ids = [await a.start('chain'), await a.start('chain')];
    for (const id of ids) await a.waitFor(id);
    expect((await a.call('DELETE', 'instances/?runtimeStatus=Completed')).status).toBe(400);
    expect((await a.call('DELETE', 'instances/')).body.error).toBe("Please provide value for 'createdTimeFrom' parameter.");
    for (const id of ids) expect((await a.call('GET', `instances/${id}`)).status).toBe(200);
    const purged = await a.call('DELETE', `instances/?runtimeStatus=Completed&createdTimeFrom=${from}`);
    expect(purged.status).toBe(200);
    expect(purged.body.instancesDeleted).toBeGreaterThanOrEqual(2);
    for (const id of ids) expect((await a.call('GET', `instances/${id}`)).status).toBe(404);
    expect((await a.call('DELETE', `instances/?runtimeStatus=Completed&createdTimeFrom=${from}`)).status).toBe(404);
  });
});

describe('query values that do not parse are ignored, as the extension ignores them', () => {
  it('keeps the defaults and the values that do parse', async () => {
    const id = await a.start('chain', { n: 1 }, `lenient-${Date.now()}`);
    await a.waitFor(id);
    // showHistory=maybe: no history (the default); showInput=nah: the input (the default).
    const s = await a.call('GET', `instances/${id}?showHistory=maybe&showInput=nah`);
    expect(s.status).toBe(200);
    expect(s.body).not.toHaveProperty('historyEvents');
    expect(s.body.input).toEqual({ n: 1 });
    // An unknown status in the list is dropped; the known one still filters.
    const listed = await a.call('GET', `instances/?instanceIdPrefix=${id}&runtimeStatus=Sleeping,Running`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([]);
    const anyStatus = await a.call('GET', `instances/?instanceIdPrefix=${id}&runtimeStatus=Sleeping&top=zero&createdTimeFrom=yesterday`);
    expect(anyStatus.status).toBe(200);
    expect(anyStatus.body.map((x: any) => x.instanceId)).toEqual([id]);
  });
});

describe('routes', () => {
  it('match operation names and the durableTask path segment case-insensitively', async () => {
    const id = await a.start('collect', 1);
    await a.waitFor(id, (s) => s.runtimeStatus === 'Running');
    const base = `${host.url}/runtime/webhooks/durableTask`;
    const post = (p: string, body = '') => fetch(`${base}/${p}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect((await fetch(`${base}/Instances/${id}`)).status).toBe(202);
    expect((await post(`INSTANCES/${id}/RaiseEvent/vote`, '"yes"')).status).toBe(202);
    expect((await a.waitFor(id)).output).toEqual(['yes']);
    const started = await post('Orchestrators/waitForever');
    expect(started.status).toBe(202);
    const other = ((await started.json()) as { id: string }).id;
    await a.waitFor(other, (s) => s.runtimeStatus === 'Running');
    expect((await post(`instances/${other}/TERMINATE?reason=case`)).status).toBe(202);
    expect((await a.waitFor(other)).runtimeStatus).toBe('Terminated');
  });

  it('answer a wrong method or an unknown operation with 404', async () => {
    const id = await a.start('chain');
    await a.waitFor(id);
    const cases: Array<[string, string]> = [
      ['GET', 'orchestrators/chain'], ['PUT', `instances/${id}`], ['PATCH', 'instances/'], ['GET', `instances/${id}/terminate`],
      ['GET', `instances/${id}/raiseEvent/x`], ['POST', `instances/${id}/frobnicate`], ['POST', `instances/${id}`], ['GET', 'entities-nope/x'],
    ];
    for (const [method, p] of cases) expect({ method, p, status: (await a.call(method, p)).status }).toEqual({ method, p, status: 404 });
    expect((await a.call('GET', `instances/${id}`)).status).toBe(200);
  });
});
