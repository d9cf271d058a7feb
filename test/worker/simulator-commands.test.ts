// Every catalog command runs in the simulated estate: against the sample (East/West) estate, or
// the Lync 2010 one for the legacy commands, each with the parameters a runbook would send. A
// command the simulator does not model would come back `not-supported`.
import { LOG_TAIL_COMMANDS } from '../../worker/log-tail.js';
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Simulator } from '../../worker/simulator/simulator.js';
import type { ExecutionResult } from '../../worker/executors/types.js';
import { loadTopologyFile, type Topology } from '../../shared/topology/index.js';
import { commandNames } from '../../shared/commands/index.js';

const SEC = { sqlServerFqdn: 'pchatsql-west.contoso.com', sqlInstanceName: 'PCHAT' };
const PRI = { sqlServerFqdn: 'pchatsql-east.contoso.com', sqlInstanceName: 'PCHAT' };
const PCHAT = 'PersistentChatServer:pchatpool1.contoso.com';
const SHARE = '\\\\fs-east.contoso.com\\pchat-logship';
const COPY = 'D:\\LogShipping\\mgc';
const DNS = { dnsServer: 'dc1.contoso.com', zoneName: 'contoso.com' };

const topologies: Record<string, Topology> = {};
beforeAll(async () => {
  for (const name of ['sample', 'lync2010']) {
    const r = await loadTopologyFile(path.resolve(import.meta.dirname, `../../examples/estate.${name}.yaml`));
    if (!r.ok) throw new Error(`${name} topology invalid`);
    topologies[name] = r.topology;
  }
});

let n = 0;
function newSim(topology: Topology): Simulator {
  return new Simulator({ dir: mkdtempSync(path.join(os.tmpdir(), 'lyncdr-cmds-')), topology, timeFactor: 0 });
}
function exec(s: Simulator, name: string, params: Record<string, unknown>): Promise<ExecutionResult> {
  return s.execute({ name, params }, { commandId: `k${++n}`, timeoutMs: 10_000, whatIf: false });
}

type Case = { estate: 'sample' | 'lync2010'; params: Record<string, unknown>; check?: (r: ExecutionResult) => void; before?: (s: Simulator) => Promise<void> };
const recordsets = (r: ExecutionResult) => (r.output as { recordsets: unknown[][] }).recordsets;

/** One invocation per catalog command, as a runbook for that estate would send it. */
const cases: Record<string, Case> = {
  'pool.failover': { estate: 'sample', params: { poolFqdn: 'eepool2.contoso.com' } },
  'pool.failback': { estate: 'sample', params: { poolFqdn: 'eepool2.contoso.com' }, before: async (s) => { await exec(s, 'pool.failover', { poolFqdn: 'eepool2.contoso.com' }); } },
  'pool.get': { estate: 'sample', params: { poolFqdn: 'eepool2.contoso.com' }, check: (r) => expect(r.output).toEqual([expect.objectContaining({ Fqdn: 'eepool2.contoso.com', Computers: ['fe2a.contoso.com', 'fe2b.contoso.com', 'fe2c.contoso.com'] })]) },
  'pool.backupRelationship': { estate: 'sample', params: { poolFqdn: 'eepool1.contoso.com' }, check: (r) => expect(r.output).toEqual([{ PoolFqdn: 'eepool1.contoso.com', BackupPoolFqdn: 'eepool2.contoso.com' }]) },
  'pool.fabricState': { estate: 'sample', params: { poolFqdn: 'eepool2.contoso.com', type: 'Routing' }, check: (r) => expect(r.output).toEqual([expect.stringContaining('eepool2.contoso.com')]) },
  'pool.testRegistration': {
    estate: 'sample', params: { targetFqdn: 'eepool2.contoso.com', userSipAddress: 'sip:lyncdr.test.eepool2@contoso.com', userCredential: 'lyncdr-test-eepool2' },
    check: (r) => expect(r.output).toEqual([expect.objectContaining({ Result: 'Success' })]),
  },
  'backup.status': { estate: 'sample', params: { poolFqdn: 'eepool1.contoso.com', category: 'CMS' }, check: (r) => expect(r.output).toEqual([expect.objectContaining({ OverallExportStatus: 'FinalState', BackupModules: [expect.objectContaining({ ModuleName: 'CentralMgmt.CMSMaster' })] })]) },
  'backup.sync': { estate: 'sample', params: { poolFqdn: 'eepool2.contoso.com' } },
  'cms.failover': { estate: 'sample', params: { backupSqlServerFqdn: 'eepool2-sql.contoso.com', backupSqlInstanceName: 'RTC' } },
  'cms.move': { estate: 'sample', params: {} },
  'cms.replicationStatus': { estate: 'sample', params: {}, check: (r) => expect((r.output as unknown[]).length).toBe(6) },
  'cms.locate': { estate: 'sample', params: {}, check: (r) => expect(r.output).toEqual([expect.objectContaining({ PoolFqdn: 'eepool1.contoso.com', SqlServer: 'eepool1-sql.contoso.com', SqlInstance: 'RTC' })]) },
  'pchat.getState': { estate: 'sample', params: { identity: PCHAT }, check: (r) => expect(r.output).toEqual([{ Identity: PCHAT, PoolState: 'Normal' }]) },
  'pchat.setState': { estate: 'sample', params: { identity: PCHAT, poolState: 'Normal' } },
  'pchat.getServices': { estate: 'sample', params: {}, check: (r) => expect(r.output).toEqual([expect.objectContaining({ ActiveServers: [1, 2, 3, 4].map((i) => `pchatserver${i}.contoso.com`) })]) },
  'pchat.addActiveServers': { estate: 'sample', params: { identity: 'global', servers: ['pchatserver1.contoso.com'] }, before: async (s) => { await exec(s, 'pchat.clearActiveServers', { identity: 'global' }); } },
  'pchat.clearActiveServers': { estate: 'sample', params: { identity: 'global' } },
  'pchat.installMirror': { estate: 'sample', params: { ...PRI, fileShare: '\\\\fs-east.contoso.com\\mirror' }, before: async (s) => { await exec(s, 'pchat.uninstallMirror', PRI); } },
  'pchat.uninstallMirror': { estate: 'sample', params: PRI },
  'pchat.exportData': { estate: 'sample', params: { ...PRI, fileName: '\\\\fs-west.contoso.com\\pchat-export\\pchat-2026-01-01.zip' } },
  'pchat.importData': {
    estate: 'sample', params: { ...PRI, fileName: '\\\\fs-west.contoso.com\\pchat-export\\pchat-2026-01-01.zip' },
    before: async (s) => { await exec(s, 'pchat.exportData', { ...PRI, fileName: '\\\\fs-west.contoso.com\\pchat-export\\pchat-2026-01-01.zip' }); },
  },
  'edge.getServices': { estate: 'sample', params: { poolFqdn: 'edgepool2.contoso.com' }, check: (r) => expect(r.output).toEqual([expect.objectContaining({ Registrar: 'Registrar:eepool2.contoso.com' })]) },
  'edge.setNextHop': { estate: 'sample', params: { edgePoolFqdn: 'edgepool2.contoso.com', nextHopPoolFqdn: 'eepool1.contoso.com' } },
  // The pool's 5,000 users and its test user.
  'users.listByPool': { estate: 'lync2010', params: { registrarPool: 'pool1.contoso.com' }, check: (r) => expect((r.output as unknown[]).length).toBe(5001) },
  'users.poolInfo': {
    estate: 'sample', params: { identity: 'sip:lyncdr.test.eepool1@contoso.com', localStore: true },
    check: (r) => expect(r.output).toEqual([expect.objectContaining({ PrimaryPoolFqdn: 'eepool1.contoso.com', BackupPoolFqdn: 'eepool2.contoso.com' })]),
  },
  'users.get': { estate: 'lync2010', params: { identity: 'sip:pool1user00001@contoso.com' }, check: (r) => expect(r.output).toEqual([expect.objectContaining({ RegistrarPool: 'pool1.contoso.com' })]) },
  'users.move': { estate: 'lync2010', params: { identities: ['sip:pool1user00001@contoso.com', 'sip:pool1user00002@contoso.com'], targetPoolFqdn: 'drse1.contoso.com' } },
  'userdata.export': { estate: 'sample', params: { poolFqdn: 'eepool1.contoso.com', fileName: '\\\\fs-west.contoso.com\\userdata\\eepool1.zip' } },
  // Export/Import/Update-CsUserData and the RGS cmdlets are Lync 2013+: the sample estate; a file is restored only once exported.
  'userdata.import': { estate: 'sample', params: { poolFqdn: 'eepool2.contoso.com', fileName: '\\\\fs-west.contoso.com\\userdata\\eepool1.zip' }, before: async (s) => { await exec(s, 'userdata.export', { poolFqdn: 'eepool1.contoso.com', fileName: '\\\\fs-west.contoso.com\\userdata\\eepool1.zip' }); } },
  'userdata.update': { estate: 'sample', params: { fileName: '\\\\fs-west.contoso.com\\userdata\\eepool1.zip', userFilter: 'eepool1user00001@contoso.com' }, before: async (s) => { await exec(s, 'userdata.export', { poolFqdn: 'eepool1.contoso.com', fileName: '\\\\fs-west.contoso.com\\userdata\\eepool1.zip' }); } },
  'rgs.export': { estate: 'sample', params: { sourcePoolFqdn: 'eepool2.contoso.com', ownerPoolFqdn: 'eepool1.contoso.com', fileName: 'D:\\RgsBackup\\eepool1-rgs.zip' } },
  'rgs.import': { estate: 'sample', params: { destinationPoolFqdn: 'eepool2.contoso.com', fileName: 'D:\\RgsBackup\\eepool1-rgs.zip' }, before: async (s) => { await exec(s, 'rgs.export', { sourcePoolFqdn: 'eepool1.contoso.com', fileName: 'D:\\RgsBackup\\eepool1-rgs.zip' }); } },
  'legacy.exportContacts': { estate: 'lync2010', params: { fileName: '\\\\fs-dr.contoso.com\\contacts\\contacts-nightly.xml', sqlServerFqdn: 'pool1-sql.contoso.com', sqlInstanceName: 'RTC' }, check: (r) => expect(r.stdout).toMatch(/Exported 5001 user/) },
  'legacy.importContacts': {
    estate: 'lync2010', params: { fileName: '\\\\fs-dr.contoso.com\\contacts\\contacts-nightly.xml', sqlServerFqdn: 'pool1-sql.contoso.com', sqlInstanceName: 'RTC' },
    before: async (s) => { await exec(s, 'legacy.exportContacts', { fileName: '\\\\fs-dr.contoso.com\\contacts\\contacts-nightly.xml', sqlServerFqdn: 'pool1-sql.contoso.com', sqlInstanceName: 'RTC' }); },
    check: (r) => expect(r.output).toEqual({ Users: 5001 }),
  },
  'dns.getRecord': { estate: 'sample', params: { ...DNS, name: 'meet', rrType: 'A' }, check: (r) => expect(r.output).toEqual([expect.objectContaining({ RecordType: 'A', RecordData: { IPv4Address: '10.1.0.10' }, TimeToLive: expect.objectContaining({ TotalSeconds: 300 }) })]) },
  'dns.addA': { estate: 'sample', params: { ...DNS, name: 'meet', ipv4Address: '10.2.0.10', ttlSeconds: 300 } },
  'dns.addCname': { estate: 'sample', params: { ...DNS, name: 'lyncdiscover', hostNameAlias: 'rp-west.contoso.com', ttlSeconds: 300 }, before: async (s) => { await exec(s, 'dns.removeRecord', { ...DNS, name: 'lyncdiscover', rrType: 'CName', recordData: 'rp-east.contoso.com' }); } },
  'dns.addSrv': { estate: 'sample', params: { ...DNS, name: '_sipinternaltls._tcp', domainName: 'eepool2.contoso.com', priority: 0, weight: 0, port: 5061, ttlSeconds: 300 } },
  'dns.removeRecord': { estate: 'sample', params: { ...DNS, name: 'meet', rrType: 'A', recordData: '10.1.0.10' } },
  'sql.logShippingMonitor': { estate: 'sample', params: SEC, check: (r) => expect(recordsets(r)[0]).toHaveLength(1) },
  'sql.logShippingSecondary': { estate: 'sample', params: SEC, check: (r) => expect(recordsets(r)[0]).toEqual([expect.objectContaining({ backup_source_directory: SHARE, backup_destination_directory: COPY })]) },
  'sql.deleteLogShippingSecondary': { estate: 'sample', params: SEC },
  'sql.lastRestoredBackup': { estate: 'sample', params: SEC, check: (r) => expect(recordsets(r)[0]).toEqual([expect.objectContaining({ restore_type: 'L' })]) },
  'sql.readBackupHeader': { estate: 'sample', params: { ...SEC, folder: COPY, file: '(first)' }, check: (r) => expect(recordsets(r)[0]).toEqual([expect.objectContaining({ BackupType: 2, DatabaseName: 'mgc' })]) },
  'sql.restoreLog': { estate: 'sample', params: { ...SEC, folder: COPY, file: '(sixth)' } },
  'sql.listSessions': { estate: 'sample', params: PRI, check: (r) => expect(recordsets(r)[0]).toHaveLength(4) },
  'sql.killSession': { estate: 'sample', params: { ...PRI, sessionId: 61 } },
  'sql.setSingleUser': { estate: 'sample', params: PRI },
  'sql.setMultiUser': { estate: 'sample', params: PRI },
  'sql.recoverDatabase': { estate: 'sample', params: SEC },
  'sql.backupDatabase': { estate: 'sample', params: { ...PRI, folder: SHARE, file: 'mgc_full.bak' } },
  'sql.restoreDatabaseReplace': {
    estate: 'sample', params: { ...SEC, folder: SHARE, file: 'mgc_full.bak' },
    before: async (s) => { await exec(s, 'sql.backupDatabase', { ...PRI, folder: SHARE, file: 'mgc_full.bak' }); },
  },
  'sql.removeMirroring': { estate: 'sample', params: { ...PRI, database: 'mgc' } },
  'file.listLogBackups': { estate: 'sample', params: { folder: SHARE }, check: (r) => expect(r.output).toHaveLength(8) },
  'file.copyLogBackups': { estate: 'sample', params: { backupShare: SHARE, copyFolder: COPY, files: ['(last)'] } },
  // Retention: the night's export is there, an older one goes, the night's own stays.
  'file.pruneExports': {
    estate: 'sample', params: { folder: '\\\\fs-west.contoso.com\\pchat-export', prefix: 'pchat-', extension: '.zip', before: '2025-12-20', keep: 'pchat-2026-01-01.zip' },
    before: async (s) => {
      await exec(s, 'pchat.exportData', { ...PRI, fileName: '\\\\fs-west.contoso.com\\pchat-export\\pchat-2026-01-01.zip' });
      await s.placeExports(['\\\\fs-west.contoso.com\\pchat-export\\pchat-2025-12-01.zip']);
    },
    check: (r) => expect(r.output).toEqual([{ Name: 'pchat-2025-12-01.zip', FullName: '\\\\fs-west.contoso.com\\pchat-export\\pchat-2025-12-01.zip', Date: '2025-12-01' }]),
  },
};

describe('every catalog command runs in the simulated estate', () => {
  it('has a case for every command of the catalog', () => {
    // users.moveRecorded and the log tail never reach an executor as themselves: the worker runs them
    // as catalog commands (users.move; file and sql reads and RESTORE LOG), tested in
    // test/worker/recorded-lists.test.ts and test/worker/log-tail.test.ts.
    const byTheWorker = new Set(['users.moveRecorded', ...LOG_TAIL_COMMANDS]);
    expect(Object.keys(cases).sort()).toEqual(commandNames.filter((n) => !byTheWorker.has(n)).sort());
  });

  for (const name of Object.keys(cases)) {
    it(name, async () => {
      const c = cases[name];
      const s = newSim(topologies[c.estate]);
      await c.before?.(s);
      const files = (await s.state()).pchatSql?.backupShare.files.map((f) => f.name) ?? [];
      const pick = (v: unknown): unknown => (v === '(first)' ? files[0] : v === '(sixth)' ? files[5] : v === '(last)' ? files.at(-1) : Array.isArray(v) ? v.map(pick) : v);
      const params = Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, pick(v)]));
      const r = await exec(s, name, params);
      expect(r.stderr).toBe('');
      expect(r.status).toBe('succeeded');
      c.check?.(r);
    });
  }
});
