// `lyncdr plan` as a real child process: build once, then run node dist/cli/lyncdr.js offline.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawEstate, root } from './helpers.js';

const bin = path.join(root, 'dist/cli/lyncdr.js');
let dir: string;

function lyncdr(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // LYNCDR_TOPOLOGY cleared unless a test sets it, so the default is what is tested.
    execFile(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, LYNCDR_TOPOLOGY: '', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

beforeAll(() => {
  if (!existsSync(bin)) throw new Error('build did not produce dist/cli/lyncdr.js');
  dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-plan-cli-'));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lyncdr plan', () => {
  it('prints the what-if of site-failover on the sample estate', async () => {
    const r = await lyncdr(['plan', 'site-failover', '--option', 'failedSite=East']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('What-if: Fail site East over to West');
    expect(r.stdout).toContain("> Invoke-CsPoolFailover -PoolFqdn 'eepool1.contoso.com' -DisasterMode -Confirm:$false");
    expect(r.stdout).toMatch(/Plan hash: sha256:[0-9a-f]{64}/);
    expect(r.stdout).toContain('Forecast RTO:');
  });

  it('--json gives the plan, its hash and the RTO forecast; the hash is stable across runs', async () => {
    const a = await lyncdr(['plan', 'site-failover', '--option', 'failedSite=East', '--option', 'installMirror=true', '--json']);
    const b = await lyncdr(['plan', 'site-failover', '--option', 'failedSite=East', '--option', 'installMirror=true', '--json']);
    expect(a.code).toBe(0);
    const j = JSON.parse(a.stdout);
    expect(j.hash).toBe(JSON.parse(b.stdout).hash);
    expect(j.plan.options.installMirror).toBe(true);
    expect(j.rto.criticalPathMs).toBeLessThan(j.rto.serialSumMs);
  });

  it('--markdown and the topology from LYNCDR_TOPOLOGY', async () => {
    const r = await lyncdr(['plan', 'legacy-site-dr', '--option', 'failedPool=pool1.contoso.com', '--option', 'exportDate=2026-11-20', '--markdown'], {
      LYNCDR_TOPOLOGY: path.join(root, 'examples/estate.lync2010.yaml'),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('# What-if: Activate the DR site');
    expect(r.stdout).toContain('```powershell');
  });

  it('exits 2 with a clear message for a bad runbook, a bad option or an unreadable file', async () => {
    const a = await lyncdr(['plan', 'site-failovr']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('unknown runbook "site-failovr"; the runbooks are fe-pool-failover');
    const b = await lyncdr(['plan', 'fe-pool-failover', '--option', 'pool=eepool9.contoso.com']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('the estate has eepool1.contoso.com, eepool2.contoso.com');
    const c = await lyncdr(['plan', 'fe-pool-failover', '--option', 'pool']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('expected key=value');
    const d = await lyncdr(['plan', 'readiness', '--topology', path.join(dir, 'missing.yaml')]);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain('cannot read');
  });

  it('exits 1 and lists the problems of an invalid topology', async () => {
    const t = rawEstate('estate.sample.yaml');
    t.frontEndPools[1].site = 'East';
    const file = path.join(dir, 'broken.yaml');
    writeFileSync(file, stringify(t));
    const r = await lyncdr(['plan', 'readiness', '--topology', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('frontEndPools[0].backupPool: the backup pool must be in another site');
  });
});
