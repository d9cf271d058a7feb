import { readFileSync, rmSync, existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFakePwsh, type FakePwsh } from './support/fake-pwsh.js';
import { PowerShellExecutor, POWERSHELL_ARGS, runPowerShell, defaultPowerShellExecutable } from '../../worker/executors/powershell.js';
import { realEstateExecutor } from '../../worker/executors/composite.js';
import { ALLOWED_CMDLETS, ENCODED_POWERSHELL_SCRIPT, POWERSHELL_SCRIPT } from '../../worker/executors/powershell-script.js';
import { catalog } from '../../shared/commands/index.js';
import { ExecutionResult } from '../../worker/executors/types.js';
import type { PowerShellSpec } from '../../shared/commands/spec.js';

let fake: FakePwsh;
beforeAll(() => { fake = installFakePwsh(); });
afterAll(() => rmSync(fake.dir, { recursive: true, force: true }));

const recorded = (): { argv: string[]; stdin: string; pid: number } => JSON.parse(readFileSync(fake.record, 'utf8'));
const ctx = { commandId: 'run-1/step-1', timeoutMs: 20_000, whatIf: false };

/** Polls until `cond` holds; the bound is far above the runner's kill, which takes milliseconds. */
async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !cond() && Date.now() < deadline;) await new Promise((res) => setTimeout(res, 20));
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  // A killed process whose parent is gone may linger as a zombie until init reaps it.
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] === 'Z';
  } catch {
    return true;
  }
}

describe('PowerShell runner against a fake pwsh', () => {
  it('defaults to pwsh, and powershell.exe on Windows', () => {
    expect(defaultPowerShellExecutable('linux')).toBe('pwsh');
    expect(defaultPowerShellExecutable('win32')).toBe('powershell.exe');
  });

  it('runs the fixed script and passes the request as JSON on stdin, never in argv', async () => {
    const exec = new PowerShellExecutor({ env: fake.env('ok') });
    const result = await exec.execute({ name: 'pool.failover', params: { poolFqdn: 'eepool1.contoso.com' } }, ctx);
    expect(ExecutionResult.parse(result)).toEqual(result);
    expect(result.status).toBe('succeeded');
    expect(result.exitCode).toBe(0);
    expect(result.rendered).toBe("Invoke-CsPoolFailover -PoolFqdn 'eepool1.contoso.com' -DisasterMode -Confirm:$false");
    const rec = recorded();
    expect(rec.argv).toEqual([...POWERSHELL_ARGS]);
    expect(Buffer.from(rec.argv[rec.argv.length - 1], 'base64').toString('utf16le')).toBe(POWERSHELL_SCRIPT);
    expect(rec.argv.join(' ')).not.toContain('eepool1');
    expect(JSON.parse(rec.stdin)).toEqual({
      cmdlet: 'Invoke-CsPoolFailover',
      arguments: [
        { kind: 'value', name: 'PoolFqdn', value: 'eepool1.contoso.com' },
        { kind: 'switch', name: 'DisasterMode', value: true },
        { kind: 'switch', name: 'Confirm', value: false },
      ],
      pipeline: null,
      secretVault: null,
    });
    expect(result.output).toEqual([{ cmdlet: 'Invoke-CsPoolFailover', arguments: JSON.parse(rec.stdin).arguments, pipeline: null }]);
  });

  it('adds -WhatIf when what-if is asked of a command that supports it, and skips one that does not', async () => {
    const exec = new PowerShellExecutor({ env: fake.env('ok') });
    const r = await exec.execute({ name: 'pchat.setState', params: { identity: 'PersistentChatServer:pchatpool1.contoso.com', poolState: 'Normal' } }, { ...ctx, whatIf: true });
    expect(r.rendered.endsWith('-WhatIf')).toBe(true);
    expect(JSON.parse(recorded().stdin).arguments).toContainEqual({ kind: 'switch', name: 'WhatIf', value: true });
    const skipped = await exec.execute({ name: 'backup.sync', params: { poolFqdn: 'eepool2.contoso.com' } }, { ...ctx, whatIf: true });
    expect(skipped).toMatchObject({ status: 'succeeded', skipped: true, exitCode: null });
  });

  it('reports a failing cmdlet with its exit code and stderr', async () => {
    const r = await new PowerShellExecutor({ env: fake.env('fail') }).execute({ name: 'pool.failover', params: { poolFqdn: 'eepool1.contoso.com' } }, ctx);
    expect(r.status).toBe('failed');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('The pool is not paired');
    expect(r.output).toBeNull();
  });

  it('keeps non-JSON stdout but gives null output', async () => {
    const r = await new PowerShellExecutor({ env: fake.env('notjson') }).execute({ name: 'cms.locate', params: {} }, ctx);
    expect(r.status).toBe('succeeded');
    expect(r.output).toBeNull();
    expect(r.stdout).toContain('not JSON');
  });

  it('parses several MB of output, and truncates at the cap instead of growing without bound', async () => {
    const full = await new PowerShellExecutor({ env: fake.env('big') }).execute({ name: 'users.listByPool', params: { registrarPool: 'eepool1.contoso.com' } }, ctx);
    expect(full.stdout!.length).toBeGreaterThan(4_000_000);
    expect(Array.isArray(full.output) && full.output.length).toBe(20_000);
    expect(full.truncated).toBeUndefined();

    const capped = await new PowerShellExecutor({ env: fake.env('big'), maxOutputBytes: 1_000_000 }).execute({ name: 'users.listByPool', params: { registrarPool: 'eepool1.contoso.com' } }, ctx);
    expect(capped.status).toBe('succeeded');
    expect(capped.truncated).toBe(true);
    expect(capped.stdout!.length).toBe(1_000_000);
    expect(capped.output).toBeNull();
  });

  it('on timeout kills the child and its grandchild', async () => {
    const started = Date.now();
    const r = await new PowerShellExecutor({ env: fake.env('hang') }).execute({ name: 'pool.failover', params: { poolFqdn: 'eepool1.contoso.com' } }, { ...ctx, timeoutMs: 1_500 });
    expect(r.status).toBe('timeout');
    expect(r.exitCode).toBeNull();
    expect(Date.now() - started).toBeLessThan(10_000);
    const childPid = recorded().pid;
    expect(existsSync(`${fake.record}.grandchild`)).toBe(true);
    const grandchildPid = Number(readFileSync(`${fake.record}.grandchild`, 'utf8'));
    await until(() => processGone(childPid) && processGone(grandchildPid));
    expect(processGone(childPid)).toBe(true);
    expect(processGone(grandchildPid)).toBe(true);
  });

  it('an abort signal stops the process tree too', async () => {
    const ac = new AbortController();
    rmSync(`${fake.record}.grandchild`, { force: true });
    const spec: PowerShellSpec = { kind: 'powershell', cmdlet: 'Get-CsPool', arguments: [] };
    const running = runPowerShell(spec, { timeoutMs: 30_000, env: fake.env('hang'), signal: ac.signal });
    // Aborted once the tree is there: the fake has started its grandchild.
    await until(() => existsSync(`${fake.record}.grandchild`));
    ac.abort();
    const r = await running;
    expect(r.timedOut).toBe(false);
    expect(r.exitCode).toBeNull();
    const grandchildPid = Number(readFileSync(`${fake.record}.grandchild`, 'utf8'));
    await until(() => processGone(grandchildPid));
    expect(processGone(grandchildPid)).toBe(true);
  });

  it('reports a missing executable as a failure, not a crash', async () => {
    const r = await new PowerShellExecutor({ executable: '/nonexistent/pwsh' }).execute({ name: 'cms.locate', params: {} }, ctx);
    expect(r.status).toBe('failed');
    expect(r.stderr).toMatch(/ENOENT/);
  });

  it('refuses invalid invocations and non-PowerShell commands before spawning anything', async () => {
    const exec = new PowerShellExecutor({ executable: '/nonexistent/pwsh' });
    const bad = await exec.execute({ name: 'pool.failover', params: { poolFqdn: 'x; calc' } }, ctx);
    expect(bad).toMatchObject({ status: 'failed', exitCode: null });
    expect(bad.stderr).toContain('params.poolFqdn');
    const sql = await exec.execute({ name: 'sql.recoverDatabase', params: { sqlServerFqdn: 'pchatsql-west.contoso.com' } }, ctx);
    expect(sql.stderr).toContain('not PowerShell');
  });

  const signIn = { name: 'pool.testRegistration', params: { targetFqdn: 'eepool2.contoso.com', userSipAddress: 'sip:lyncdr.test.eepool1@contoso.com', userCredential: 'lyncdr-test-eepool1' } };

  it('refuses a command with a credential on a worker without a secret vault, before spawning anything', async () => {
    rmSync(fake.record, { force: true });
    const r = await new PowerShellExecutor({ env: fake.env('ok') }).execute(signIn, ctx);
    expect(r).toMatchObject({ status: 'failed', errorKind: 'not-supported', exitCode: null });
    expect(r.stderr).toContain('LYNCDR_SECRET_VAULT');
    expect(existsSync(fake.record)).toBe(false);
  });

  it('sends a credential as the name of a secret in the worker\'s vault, for the script to read there', async () => {
    const r = await new PowerShellExecutor({ env: fake.env('ok'), secretVault: 'LyncDR' }).execute(signIn, ctx);
    expect(r.status).toBe('succeeded');
    expect(r.rendered).toBe("Test-CsRegistration -TargetFqdn 'eepool2.contoso.com' -UserSipAddress 'sip:lyncdr.test.eepool1@contoso.com' -UserCredential (Get-Secret -Name 'lyncdr-test-eepool1')");
    const req = JSON.parse(recorded().stdin);
    expect(req.secretVault).toBe('LyncDR');
    expect(req.arguments).toContainEqual({ kind: 'credential', name: 'UserCredential', secret: 'lyncdr-test-eepool1' });
    // The script reads the secret from the named vault and binds the PSCredential it returns.
    expect(POWERSHELL_SCRIPT).toContain("Get-Secret -Name $secret -Vault ([string]$req.secretVault) -ErrorAction Stop");
    expect(POWERSHELL_SCRIPT).toContain('-isnot [System.Management.Automation.PSCredential]');
  });

  it('takes the vault from LYNCDR_SECRET_VAULT on a real-estate worker, and refuses a name that is not one', async () => {
    await expect(realEstateExecutor({ LYNCDR_SECRET_VAULT: 'Lync DR; rm' })).rejects.toThrow(/LYNCDR_SECRET_VAULT must be a SecretManagement vault name/);
    const none = await (await realEstateExecutor({ LYNCDR_POWERSHELL: '/nonexistent/pwsh' })).execute(signIn, ctx);
    expect(none.stderr).toContain('this worker has no secret vault');
    const withVault = await (await realEstateExecutor({ LYNCDR_POWERSHELL: '/nonexistent/pwsh', LYNCDR_SECRET_VAULT: 'LyncDR' })).execute(signIn, ctx);
    expect(withVault.stderr).not.toContain('secret vault');
    expect(withVault.stderr).toMatch(/ENOENT/);
  });
});

describe('the fixed script', () => {
  it('allow-lists exactly the cmdlets the catalog uses', () => {
    const used = new Set<string>();
    for (const c of Object.values(catalog)) {
      const spec = c.build(c.params.parse(c.example));
      if (spec.kind === 'powershell') used.add(spec.cmdlet);
    }
    expect([...used].sort()).toEqual([...ALLOWED_CMDLETS].sort());
  });

  it('splats parameters instead of building script text, and converts -EncodedCommand losslessly', () => {
    expect(POWERSHELL_SCRIPT).toContain('& $cmdlet @params');
    expect(POWERSHELL_SCRIPT).toContain('[Console]::In.ReadToEnd() | ConvertFrom-Json');
    expect(POWERSHELL_SCRIPT).toContain('ConvertTo-Json');
    expect(POWERSHELL_SCRIPT).not.toMatch(/Invoke-Expression|iex\s|\[scriptblock\]::Create|AddScript/i);
    expect(Buffer.from(ENCODED_POWERSHELL_SCRIPT, 'base64').toString('utf16le')).toBe(POWERSHELL_SCRIPT);
  });
});
