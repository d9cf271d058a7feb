// The real-estate executor routes each command kind to its runner; SQL without a configuration
// fails as not-supported with a message that says what to set.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CompositeExecutor, realEstateExecutor, sqlConfigFromEnv } from '../../worker/executors/composite.js';
import type { CommandExecutor, ExecutionResult } from '../../worker/executors/types.js';
import type { CommandInvocation } from '../../shared/commands/invocation.js';
import { errorKindOf } from '../../worker/worker.js';

function recorder(kind: string, calls: string[]): CommandExecutor {
  return {
    execute: (inv: CommandInvocation): Promise<ExecutionResult> => {
      calls.push(`${kind}:${inv.name}`);
      return Promise.resolve({ status: 'succeeded', exitCode: 0, output: kind, stderr: '', durationMs: 0, rendered: inv.name });
    },
  };
}
const ctx = { commandId: 'c1', timeoutMs: 5_000, whatIf: false };

describe('CompositeExecutor', () => {
  it('routes powershell, sql, file and exe commands to their runners', async () => {
    const calls: string[] = [];
    const c = new CompositeExecutor({ powershell: recorder('ps', calls), sql: recorder('sql', calls), file: recorder('file', calls), exe: recorder('exe', calls) });
    await c.execute({ name: 'pool.failover', params: { poolFqdn: 'eepool1.contoso.com' } }, ctx);
    await c.execute({ name: 'sql.recoverDatabase', params: { sqlServerFqdn: 'pchatsql-west.contoso.com' } }, ctx);
    await c.execute({ name: 'file.listLogBackups', params: { folder: 'D:\\LogShipping\\mgc' } }, ctx);
    await c.execute({ name: 'legacy.importContacts', params: { fileName: '\\\\fs-dr.contoso.com\\contacts\\c.xml' } }, ctx);
    expect(calls).toEqual(['ps:pool.failover', 'sql:sql.recoverDatabase', 'file:file.listLogBackups', 'exe:legacy.importContacts']);
  });

  it('an invalid invocation reaches no runner', async () => {
    const calls: string[] = [];
    const c = new CompositeExecutor({ powershell: recorder('ps', calls), sql: recorder('sql', calls), file: recorder('file', calls), exe: recorder('exe', calls) });
    const r = await c.execute({ name: 'pool.failover', params: { poolFqdn: "x'; Remove-Item" } }, ctx);
    expect(r).toMatchObject({ status: 'failed', errorKind: 'precondition' });
    expect(calls).toEqual([]);
  });

  it('without SQL configuration, SQL steps fail not-supported with what to set; the worker reports them as precondition', async () => {
    const c = await realEstateExecutor({});
    const r = await c.execute({ name: 'sql.logShippingMonitor', params: { sqlServerFqdn: 'pchatsql-west.contoso.com', sqlInstanceName: 'PCHAT' } }, ctx);
    expect(r).toMatchObject({ status: 'failed', errorKind: 'not-supported', exitCode: null });
    expect(r.stderr).toMatch(/SQL is not configured on this worker: set LYNCDR_SQL_USER/);
    expect(r.rendered).toMatch(/log_shipping_monitor_secondary/);
    expect(errorKindOf(r.errorKind)).toBe('precondition');
    expect(errorKindOf(undefined)).toBe('execution');
    expect(errorKindOf('timeout')).toBe('timeout');
  });

  it('a powershell command goes to the PowerShell runner (here: no pwsh -> not-supported, or the cmdlet fails)', async () => {
    const c = await realEstateExecutor({ LYNCDR_POWERSHELL: path.join(os.tmpdir(), 'no-such-pwsh') });
    const r = await c.execute({ name: 'pool.get', params: { poolFqdn: 'eepool1.contoso.com' } }, ctx);
    expect(r).toMatchObject({ status: 'failed', errorKind: 'not-supported' });
    expect(r.rendered).toBe("Get-CsPool -Identity 'eepool1.contoso.com'");
  });

  it('an exe command goes to DBImpExp.exe (missing here: not-supported)', async () => {
    const c = await realEstateExecutor({ LYNCDR_DBIMPEXP_PATH: path.join(os.tmpdir(), 'no-such-DBImpExp.exe') });
    const r = await c.execute({ name: 'legacy.exportContacts', params: { fileName: '\\\\fs-dr.contoso.com\\contacts\\c.xml' } }, ctx);
    expect(r).toMatchObject({ status: 'failed', errorKind: 'not-supported' });
    expect(r.stderr).toMatch(/cannot start DBImpExp.exe/);
  });
});

describe('SQL configuration from the environment', () => {
  it('user / password / domain / port / TLS flags, or a JSON file; nothing set: undefined', async () => {
    expect(await sqlConfigFromEnv({})).toBeUndefined();
    expect(await sqlConfigFromEnv({ LYNCDR_SQL_USER: 'lyncdr', LYNCDR_SQL_PASSWORD: 'pw', LYNCDR_SQL_DOMAIN: 'CONTOSO', LYNCDR_SQL_PORT: '1433', LYNCDR_SQL_TRUST_SERVER_CERTIFICATE: 'true' }))
      .toEqual({ user: 'lyncdr', password: 'pw', domain: 'CONTOSO', port: 1433, options: { encrypt: true, trustServerCertificate: true } });
    await expect(sqlConfigFromEnv({ LYNCDR_SQL_USER: 'lyncdr' })).rejects.toThrow(/LYNCDR_SQL_PASSWORD/);
    await expect(sqlConfigFromEnv({ LYNCDR_SQL_USER: 'u', LYNCDR_SQL_PASSWORD: 'p', LYNCDR_SQL_ENCRYPT: 'maybe' })).rejects.toThrow(/true or false/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-sqlcfg-'));
    writeFileSync(path.join(dir, 'ok.json'), JSON.stringify({ authentication: { type: 'ntlm', options: { domain: 'CONTOSO', userName: 'u', password: 'p' } } }));
    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ server: 'evil' }));
    expect(await sqlConfigFromEnv({ LYNCDR_SQL_CONFIG: path.join(dir, 'ok.json') })).toMatchObject({ authentication: { type: 'ntlm' } });
    await expect(sqlConfigFromEnv({ LYNCDR_SQL_CONFIG: path.join(dir, 'bad.json') })).rejects.toThrow(/comes from each command/);
  });
});
