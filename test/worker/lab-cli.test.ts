import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { registerLabCommands } from '../../cli/commands/lab.js';
import { Simulator } from '../../worker/simulator/simulator.js';

async function lab(dir: string, ...args: string[]): Promise<string> {
  let text = '';
  const program = new Command('lyncdr').exitOverride();
  registerLabCommands(program, { env: { LYNCDR_SIM_DIR: dir }, out: (t) => { text += t; } });
  await program.parseAsync(['node', 'lyncdr', 'lab', ...args]);
  return text;
}

describe('lyncdr lab', () => {
  it('disaster, fault, state and reset act on the simulator files', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-lab-'));
    expect(await lab(dir, 'disaster', 'east')).toBe('site east down\n');
    expect(await lab(dir, 'state')).toMatch(/east DOWN/);
    await lab(dir, 'fault', 'pool.failover', 'fail', '--times', '2');
    const state = JSON.parse(await lab(dir, 'state', '--json'));
    expect(state.sites.east.up).toBe(false);
    expect(state.faults).toEqual([{ command: 'pool.failover', kind: 'fail', remaining: 2, factor: 10 }]);
    expect((await new Simulator({ dir }).faults.list())).toHaveLength(1);
    await lab(dir, 'disaster', 'east', '--recover');
    await lab(dir, 'reset');
    const after = JSON.parse(await lab(dir, 'state', '--json'));
    expect(after.sites.east.up).toBe(true);
    expect(after.faults).toEqual([]);
    await expect(lab(dir, 'fault', 'x', 'explode')).rejects.toThrow(/kind must be one of/);
    await expect(lab(dir, 'disaster', 'mars')).rejects.toThrow(/neither a site/);
  });

  it('reset --topology rebuilds the estate from that topology; state --snapshot; manual reestablish-log-shipping', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-lab-'));
    const legacy = path.resolve(import.meta.dirname, '../../examples/estate.lync2010.yaml');
    expect(await lab(dir, 'reset', '--topology', legacy)).toBe(`estate reset from ${legacy}\n`);
    const snap = JSON.parse(await lab(dir, 'state', '--snapshot'));
    expect(Object.keys(snap.pools)).toEqual(['drse1.contoso.com', 'pool1.contoso.com']);
    expect(snap.sites).toEqual({ dr: { up: true }, primary: { up: true } });
    expect(snap.pchat).toBeNull();
    await lab(dir, 'reset');
    expect(JSON.parse(await lab(dir, 'state', '--snapshot')).cms.pool).toBe('eepool1.contoso.com');
    await expect(lab(dir, 'manual', 'reestablish-log-shipping')).rejects.toThrow(/already configured/);
    await expect(lab(dir, 'reset', '--topology', path.join(dir, 'missing.yaml'))).rejects.toThrow(/cannot read/);
  });

  it('manual apply-log-backups and remove-srv-target do the runbooks\' manual steps through the estate', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lyncdr-lab-'));
    await lab(dir, 'reset');
    const before = (await new Simulator({ dir }).state()).pchatSql!;
    const pending = before.backupShare.files.filter((f) => f.seq > before.secondary.lastRestoredSeq).length;
    expect(pending).toBeGreaterThan(0);
    // A fault armed for the workers' commands is theirs: the DBA's restores neither hit nor use it.
    await lab(dir, 'fault', 'sql.restoreLog', 'fail');
    expect(await lab(dir, 'manual', 'apply-log-backups')).toMatch(new RegExp(`^copied and restored ${pending} log backup\\(s\\) of mgc on pchatsql-west.contoso.com: mgc_`));
    const after = (await new Simulator({ dir }).state()).pchatSql!;
    expect(after.secondary.lastRestoredSeq).toBe(Math.max(...before.backupShare.files.map((f) => f.seq)));
    expect(await lab(dir, 'manual', 'apply-log-backups')).toBe('no log backup of mgc is left to apply on pchatsql-west.contoso.com\n');
    expect(await new Simulator({ dir }).faults.list()).toEqual([expect.objectContaining({ command: 'sql.restoreLog', remaining: 1 })]);
    expect(await lab(dir, 'manual', 'remove-srv-target', 'eepool1.contoso.com')).toBe('removed the SRV target eepool1.contoso.com from _sipinternaltls._tcp.contoso.com\n');
    expect(JSON.parse(await lab(dir, 'state', '--json')).dns['_sipinternaltls._tcp.contoso.com'].records).toEqual([]);
    await expect(lab(dir, 'manual', 'remove-srv-target', 'eepool1.contoso.com')).rejects.toThrow(/No SRV record points at eepool1.contoso.com/);
    await expect(lab(dir, 'manual', 'remove-srv-target')).rejects.toThrow(/needs the target FQDN/);
    await expect(lab(dir, 'manual', 'dance')).rejects.toThrow(/action must be apply-log-backups/);
  });
});
