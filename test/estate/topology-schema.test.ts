import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadTopologyFile, parseTopology, summarizeTopology, formatTopologySummary, type Problem } from '../../shared/topology/index.js';

const sample = (): any => parse(readFileSync(new URL('../../examples/estate.sample.yaml', import.meta.url), 'utf8'));
const legacy = (): any => parse(readFileSync(new URL('../../examples/estate.lync2010.yaml', import.meta.url), 'utf8'));

function problemsOf(data: unknown): Problem[] {
  const r = parseTopology(data);
  return r.ok ? [] : r.problems;
}

function expectProblem(data: unknown, path: string, message: RegExp): void {
  const problems = problemsOf(data);
  expect(problems, JSON.stringify(problems, null, 1)).toContainEqual({ path, message: expect.stringMatching(message) });
}

describe('sample estates', () => {
  it('the East/West sample passes and summarises', async () => {
    const r = await loadTopologyFile(new URL('../../examples/estate.sample.yaml', import.meta.url).pathname);
    expect(r.ok ? [] : r.problems).toEqual([]);
    if (!r.ok) throw new Error('unreachable: the assertion above failed');
    const s = summarizeTopology(r.topology);
    expect(s.persistentChat).toMatchObject({ activeBySite: { East: 4 }, standbyBySite: { West: 4 }, capacity: 80_000 });
    expect(s.pools.map((p) => [p.fqdn, p.backupPool])).toEqual([['eepool1.contoso.com', 'eepool2.contoso.com'], ['eepool2.contoso.com', 'eepool1.contoso.com']]);
    expect(formatTopologySummary(r.topology)).toContain('pchatsql-east.contoso.com\\PCHAT -> log shipping -> pchatsql-west.contoso.com\\PCHAT');
  });

  it('the Lync 2010 sample passes', () => {
    expect(problemsOf(legacy())).toEqual([]);
  });

  it('the same estate as JSON loads too', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-topo-'));
    writeFileSync(path.join(dir, 'estate.json'), JSON.stringify(sample()));
    expect((await loadTopologyFile(path.join(dir, 'estate.json'))).ok).toBe(true);
    rmSync(dir, { recursive: true });
  });
});

describe('shape', () => {
  it('reports the path of a bad FQDN and unknown keys', () => {
    const t = sample();
    t.frontEndPools[1].fqdn = 'eepool2;calc';
    t.frontEndPools[0].colour = 'blue';
    const problems = problemsOf(t);
    expect(problems.map((p) => p.path)).toEqual(expect.arrayContaining(['frontEndPools[1].fqdn', 'frontEndPools[0]']));
  });
});

describe('test users (issue 12 §5)', () => {
  it('every pool needs one, named by SIP address and the secret of its credential, and no password', () => {
    const t = sample();
    delete t.frontEndPools[1].testUser;
    expectProblem(t, 'frontEndPools[1].testUser', /^a pool needs a test user: testUser: \{ sipAddress: sip:\.\.\., credential: .*vault/);
    const u = sample();
    u.frontEndPools[0].testUser.password = 'P@ssw0rd';
    expectProblem(u, 'frontEndPools[0].testUser', /Unrecognized key: "password"/);
    const v = sample();
    v.frontEndPools[0].testUser.credential = 'lyncdr test; rm';
    expectProblem(v, 'frontEndPools[0].testUser.credential', /secret name/);
  });

  it('two pools cannot share one, and the sip: prefix is added where it is left out', () => {
    const t = sample();
    t.frontEndPools[1].testUser = { sipAddress: 'LyncDR.Test.eepool1@contoso.com', credential: 'lyncdr-test-eepool2' };
    expectProblem(t, 'frontEndPools[1].testUser.sipAddress', /test user lyncdr\.test\.eepool1@contoso\.com is already the test user of eepool1\.contoso\.com/);
    const u = sample();
    u.frontEndPools[1].testUser.sipAddress = 'Someone.Else@contoso.com';
    const r = parseTopology(u);
    expect(r.ok && r.topology.frontEndPools[1].testUser.sipAddress).toBe('sip:someone.else@contoso.com');
  });
});

describe("the pChat log-shipping share's site (issue 12 §2)", () => {
  it('is required: a site of the topology, or dfs for a namespace every site reaches', () => {
    const t = sample();
    delete t.persistentChat.sql.backupShareSite;
    expectProblem(t, 'persistentChat.sql.backupShareSite', /^the site of backupShare's file server is needed: backupShareSite: <site>, or dfs/);
    const u = sample();
    u.persistentChat.sql.backupShareSite = 'North';
    expectProblem(u, 'persistentChat.sql.backupShareSite', /North/);
    const v = sample();
    v.persistentChat.sql.backupShareSite = 'dfs';
    const r = parseTopology(v);
    expect(r.ok && r.topology.persistentChat?.sql.backupShareSite).toBe('dfs');
  });
});

describe('rules', () => {
  it('pairing is like-with-like', () => {
    const t = sample();
    t.frontEndPools[1].edition = 'Standard';
    t.frontEndPools[1].frontEnds = [{ fqdn: 'eepool2.contoso.com' }];
    expectProblem(t, 'frontEndPools[0].backupPool', /like-with-like.*Enterprise.*Standard/);
  });

  it('pairing is reciprocal and one-to-one', () => {
    const t = sample();
    t.frontEndPools.push({ ...t.frontEndPools[1], fqdn: 'eepool3.contoso.com', backupPool: 'eepool1.contoso.com', frontEnds: [{ fqdn: 'fe3a.contoso.com' }] });
    expectProblem(t, 'frontEndPools[2].backupPool', /one-to-one and reciprocal.*eepool1.contoso.com.*paired with eepool2.contoso.com/);
    const u = sample();
    delete u.frontEndPools[1].backupPool;
    expectProblem(u, 'frontEndPools[0].backupPool', /reciprocal.*has no backupPool/);
  });

  it('the backup pool is in another site and exists', () => {
    const t = sample();
    t.frontEndPools[1].site = 'East';
    expectProblem(t, 'frontEndPools[0].backupPool', /another site/);
    const u = sample();
    u.frontEndPools[0].backupPool = 'nowhere.contoso.com';
    expectProblem(u, 'frontEndPools[0].backupPool', /unknown pool nowhere.contoso.com/);
  });

  it('Lync 2010 has no pool pairing and no Persistent Chat; SfB 2019 has no Persistent Chat', () => {
    const t = sample();
    t.version = 'lync2010';
    expectProblem(t, 'frontEndPools[0].backupPool', /Lync Server 2013 or later/);
    expectProblem(t, 'persistentChat', /Group Chat/);
    const u = sample();
    u.version = 'sfb2019';
    expectProblem(u, 'persistentChat', /removed in Skype for Business Server 2019/);
  });

  it('Front End pools are not stretched; a Standard Edition pool is its one server', () => {
    const t = sample();
    t.frontEndPools[0].frontEnds[2].site = 'West';
    expectProblem(t, 'frontEndPools[0].frontEnds[2].site', /cannot be stretched/);
    const u = legacy();
    u.frontEndPools[1].frontEnds.push({ fqdn: 'drse2.contoso.com' });
    expectProblem(u, 'frontEndPools[1].frontEnds', /exactly one server/);
  });

  it('failure detection interval is at least 30 seconds', () => {
    const t = sample();
    t.frontEndPools[0].failureDetectionIntervalSeconds = 10;
    expectProblem(t, 'frontEndPools[0].failureDetectionIntervalSeconds', /30 seconds/);
  });

  it('at most 8 Persistent Chat servers and at most 4 active', () => {
    const t = sample();
    t.persistentChat.servers.push({ fqdn: 'pchatserver9.contoso.com', site: 'West', role: 'standby' });
    expectProblem(t, 'persistentChat.servers', /at most 8 servers/);
    const u = sample();
    u.persistentChat.servers[4].role = 'active';
    u.persistentChat.siteLinkBandwidth = 'high';
    expectProblem(u, 'persistentChat.servers', /at most 4 servers can be active, found 5/);
  });

  it('a low-bandwidth link keeps every active server in one site, beside the primary SQL', () => {
    const t = sample();
    t.persistentChat.servers[0].role = 'standby';
    t.persistentChat.servers[4].role = 'active';
    expectProblem(t, 'persistentChat.servers', /low-bandwidth.*one site; actives are in East, West/);
    const u = sample();
    u.persistentChat.servers.forEach((s: any) => { s.role = s.site === 'West' ? 'active' : 'standby'; });
    expectProblem(u, 'persistentChat.servers', /primary SQL site "East", not "West"/);
  });

  it('a high-bandwidth link splits actives evenly', () => {
    const t = sample();
    t.persistentChat.siteLinkBandwidth = 'high';
    expectProblem(t, 'persistentChat.servers', /split evenly.*East: 4, West: 0/);
    t.persistentChat.servers[2].role = 'standby';
    t.persistentChat.servers[3].role = 'standby';
    t.persistentChat.servers[4].role = 'active';
    t.persistentChat.servers[5].role = 'active';
    expect(problemsOf(t)).toEqual([]);
  });

  it('capacity: about 20,000 concurrent users per active server', () => {
    const t = sample();
    t.persistentChat.servers[3].role = 'standby';
    expect(problemsOf(t)).toEqual([]); // 3 x 20,000 covers 60,000 exactly
    t.persistentChat.concurrentUsers = 61_000;
    expectProblem(t, 'persistentChat.concurrentUsers', /61000 concurrent users need 4 active servers \(about 20000 each\); 3 active give 60000/);
  });

  it('the pChat service identity matches the pool, and Lync 2013 uses the global collection', () => {
    const t = sample();
    t.persistentChat.serviceIdentity = 'PersistentChatServer:other.contoso.com';
    t.persistentChat.activeServerCollectionIdentity = 'PersistentChatServer:pchatpool1.contoso.com';
    expectProblem(t, 'persistentChat.serviceIdentity', /PersistentChatServer:pchatpool1.contoso.com/);
    expectProblem(t, 'persistentChat.activeServerCollectionIdentity', /"global"/);
    t.version = 'sfb2015';
    expect(problemsOf(t).map((p) => p.path)).not.toContain('persistentChat.activeServerCollectionIdentity');
  });

  it('pChat SQL: secondary in another site with pChat servers there; only mgc log shipped; mirrors beside their principal', () => {
    const t = sample();
    t.persistentChat.sql.secondary.site = 'East';
    expectProblem(t, 'persistentChat.sql.secondary.site', /another site/);
    const u = sample();
    u.persistentChat.sql.logShippedDatabases = ['mgc', 'mgccomp'];
    u.persistentChat.sql.mirror.site = 'West';
    expectProblem(u, 'persistentChat.sql.logShippedDatabases[1]', /only mgc is log shipped/);
    expectProblem(u, 'persistentChat.sql.mirror.site', /primary site/);
    const v = sample();
    v.persistentChat.servers = v.persistentChat.servers.filter((s: any) => s.site === 'East');
    expectProblem(v, 'persistentChat.servers', /no Persistent Chat server in "West"/);
    const w = sample();
    w.persistentChat.sql.backupShare = 'D:\\not-unc';
    expectProblem(w, 'persistentChat.sql.backupShare', /UNC path/);
  });

  it('every site that hosts something a runbook touches has a worker; workers are not shared', () => {
    const t = sample();
    delete t.sites[1].workerId;
    expectProblem(t, 'sites[1].workerId', /site "West" hosts .* but has no worker/);
    const u = sample();
    u.sites[1].workerId = 'worker-east';
    expectProblem(u, 'sites[1].workerId', /already the worker of sites\[0\]/);
  });

  it('references resolve: sites, Edge next hops', () => {
    const t = sample();
    t.persistentChat.servers[7].site = 'North';
    t.edgePools[0].nextHop = 'gone.contoso.com';
    expectProblem(t, 'persistentChat.servers[7].site', /unknown site "North"/);
    expectProblem(t, 'edgePools[0].nextHop', /unknown Front End pool gone.contoso.com/);
  });

  it('FQDNs are unique across pools and servers', () => {
    const t = sample();
    t.persistentChat.servers[7].fqdn = 'fe1a.contoso.com';
    expectProblem(t, 'persistentChat.servers[7].fqdn', /already used at frontEndPools\[0\].frontEnds\[0\].fqdn/);
  });

  it('exactly one pool hosts the CMS', () => {
    const t = sample();
    t.frontEndPools[1].hostsCms = true;
    expectProblem(t, 'frontEndPools[1].hostsCms', /only one pool hosts the CMS/);
    t.frontEndPools[0].hostsCms = false;
    t.frontEndPools[1].hostsCms = false;
    expectProblem(t, 'frontEndPools', /no pool hosts the Central Management Store/);
  });

  it('DNS TTLs are sane and targets fit the record type', () => {
    const t = sample();
    t.dns[1].ttlSeconds = 86_400;
    t.dns[2].ttlSeconds = 5;
    t.dns[0].target = 'sip.contoso.com';
    t.dns[4].siteTargets.West = '10.2.0.1';
    t.dns[5].port = undefined;
    expectProblem(t, 'dns[1].ttlSeconds', /over 3600 s/);
    expectProblem(t, 'dns[2].ttlSeconds', /under 30 s/);
    expectProblem(t, 'dns[0].target', /IPv4 address/);
    expectProblem(t, 'dns[4].siteTargets.West', /CNAME record points at an FQDN/);
    expectProblem(t, 'dns[5].port', /needs a port/);
  });

  it('Lync 2010-style DR: a Standard Edition server in its own site hosting the CMS with no users', () => {
    const t = legacy();
    t.frontEndPools[1].hostsCms = false;
    t.frontEndPools[0].hostsCms = true;
    t.frontEndPools[1].userCount = 10;
    expectProblem(t, 'legacyDr.drPool', /must host the CMS/);
    expectProblem(t, 'frontEndPools[1].userCount', /no production users/);
    const u = legacy();
    u.legacyDr.drPool = 'pool1.contoso.com';
    expectProblem(u, 'legacyDr.drPool', /Standard Edition/);
  });
});
