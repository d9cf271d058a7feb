// Every PowerShell command the catalog renders must be a documented call: its parameters
// fit one parameter set of the cmdlet and that set's mandatory parameters are all present.
// The Lync reference is a copy of Microsoft's cmdlet reference; the DnsServer subset is ours.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalog, type CommandDefinition } from '../../shared/commands/index.js';
import type { PowerShellSpec } from '../../shared/commands/spec.js';

interface RefParam { name: string; mandatory: boolean; switch: boolean }
interface RefCmdlet { parameterSets: Array<{ name: string; parameters: RefParam[] }> }
const load = (f: string): Record<string, RefCmdlet> => JSON.parse(readFileSync(new URL(`../fixtures/reference/${f}`, import.meta.url), 'utf8'));
const lync = load('cmdlets.json');
const dns = load('dnsserver-cmdlets.json');
const reference: Record<string, RefCmdlet> = { ...lync, ...dns };

const DOES_NOT_EXIST = ['Get-CsPersistentChatActiveServer', 'Get-CsEdgeServer'];

function findRef(cmdlet: string): RefCmdlet | undefined {
  const key = Object.keys(reference).find((k) => k.toLowerCase() === cmdlet.toLowerCase() && !k.startsWith('_'));
  return key ? reference[key] : undefined;
}

const powershellCommands = Object.values(catalog)
  .map((c) => ({ c, spec: c.build(c.params.parse(c.example)) }))
  .filter((x): x is { c: CommandDefinition; spec: PowerShellSpec } => x.spec.kind === 'powershell');

/** The parameter sets of the cmdlet that accept every parameter used, with the mandatory ones given. */
function matchingSets(spec: PowerShellSpec): string[] {
  const ref = findRef(spec.cmdlet)!;
  const used = new Set(spec.arguments.map((a) => a.name.toLowerCase()));
  if (spec.pipeline) used.add(spec.pipeline.parameter.toLowerCase());
  return ref.parameterSets
    .filter((set) => {
      const names = new Set(set.parameters.map((p) => p.name.toLowerCase()));
      return [...used].every((u) => names.has(u)) && set.parameters.filter((p) => p.mandatory).every((p) => used.has(p.name.toLowerCase()));
    })
    .map((s) => s.name);
}

describe('catalog against the cmdlet reference', () => {
  it.each(powershellCommands.map((x) => [x.c.name, x] as const))('%s fits a documented parameter set', (_n, { spec }) => {
    expect(findRef(spec.cmdlet), `${spec.cmdlet} is not in the reference`).toBeDefined();
    expect(DOES_NOT_EXIST).not.toContain(spec.cmdlet);
    expect(matchingSets(spec).length, `${spec.cmdlet} ${spec.arguments.map((a) => a.name).join(' ')}`).toBeGreaterThan(0);
  });

  it.each(powershellCommands.map((x) => [x.c.name, x] as const))('%s suppresses prompts and declares what-if as the reference says', (_n, { c, spec }) => {
    const sets = findRef(spec.cmdlet)!.parameterSets.filter((s) => matchingSets(spec).includes(s.name));
    const has = (p: string): boolean => sets.some((s) => s.parameters.some((x) => x.name === p));
    const confirm = spec.arguments.find((a) => a.name === 'Confirm');
    expect(confirm).toEqual(has('Confirm') ? { kind: 'switch', name: 'Confirm', value: false } : undefined);
    // Reads never get -WhatIf; changes get it exactly when the cmdlet has it.
    expect(c.supportsWhatIf).toBe(c.effect !== 'read-only' && has('WhatIf'));
    expect(spec.arguments.some((a) => a.name === 'WhatIf')).toBe(false);
  });

  it('renders plain hyphens only and the corrections from RUNBOOKS.md', () => {
    for (const { c } of powershellCommands) expect(c.render(c.params.parse(c.example))).not.toMatch(/[\u2013\u2014\u2015]/);
    const render = (name: string, params: unknown): string => catalog[name].render(catalog[name].params.parse(params));
    expect(render('pchat.clearActiveServers', { identity: 'global' })).toBe("Set-CsPersistentChatActiveServer -Identity 'global' -ActiveServers $null -Confirm:$false");
    expect(render('cms.failover', { backupSqlServerFqdn: 'eepool2-sql.contoso.com', backupSqlInstanceName: 'RTC' })).toBe(
      "Invoke-CsManagementServerFailover -BackupSqlServerFqdn 'eepool2-sql.contoso.com' -BackupSqlInstanceName 'RTC' -Force -Confirm:$false",
    );
    expect(render('pool.failover', { poolFqdn: 'EEPool1.contoso.com' })).toBe("Invoke-CsPoolFailover -PoolFqdn 'eepool1.contoso.com' -DisasterMode -Confirm:$false");
    expect(render('pchat.getServices', {})).toBe('Get-CsService -PersistentChatServer');
    expect(render('edge.getServices', {})).toBe('Get-CsService -EdgeServer');
    expect(render('users.move', { identities: ['sip:a@contoso.com'], targetPoolFqdn: 'drse1.contoso.com' })).toBe("'sip:a@contoso.com' | Move-CsUser -Target 'drse1.contoso.com' -Force -Confirm:$false");
    // -Force is not used as a prompt bypass where it means something else.
    expect(render('pool.failback', { poolFqdn: 'eepool1.contoso.com' })).not.toContain('-Force');
  });

  it('only mgc is log shipped', () => {
    for (const name of ['sql.deleteLogShippingSecondary', 'sql.restoreLog', 'sql.logShippingMonitor', 'file.listLogBackups']) {
      const bad = { ...(catalog[name].example as Record<string, unknown>), database: 'mgccomp' };
      const r = catalog[name].params.safeParse(bad);
      expect(r.success, name).toBe(false);
    }
  });

  it('every command has a consistent kind, an example that validates, and a summary', () => {
    expect(Object.keys(catalog).length).toBeGreaterThanOrEqual(50);
    for (const c of Object.values(catalog)) {
      const spec = c.build(c.params.parse(c.example));
      expect(spec.kind, c.name).toBe(c.kind);
      expect(c.summary.length, c.name).toBeGreaterThan(10);
      expect(['read-only', 'idempotent', 'non-idempotent']).toContain(c.effect);
    }
  });
});
