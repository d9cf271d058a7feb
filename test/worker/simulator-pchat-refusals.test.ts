// Issue 12 §8: the simulated Persistent Chat pool refuses what the real one refuses.
// - Set-CsPersistentChatActiveServer binds a parameter set only with -ActiveServers or -Swap
//   (cmdlet reference: Explicit and Swap sets, each with its own mandatory parameter).
// - Over a low-bandwidth site link every active server is in the data center of the mgc in use:
//   the primary's while Normal, the backup's while FailedOver (cmdlet reference notes).
// - Normal again only once the primary mgc holds what the backup mgc took while failed over: the
//   full backup of the backup mgc restored over the primary (seed 001 scenario 2B steps 4-5).
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Simulator } from '../../worker/simulator/simulator.js';
import { applySpec } from '../../worker/simulator/estate.js';
import type { PowerShellSpec, PsArgument } from '../../shared/commands/spec.js';
import type { ExecutionResult } from '../../worker/executors/types.js';
import { estate } from '../plans/helpers.js';

const sample = estate('estate.sample.yaml');
const PCHAT = 'PersistentChatServer:pchatpool1.contoso.com';
const SEC = { sqlServerFqdn: 'pchatsql-west.contoso.com', sqlInstanceName: 'PCHAT' };
const PRI = { sqlServerFqdn: 'pchatsql-east.contoso.com', sqlInstanceName: 'PCHAT' };
const SHARE = '\\\\fs-east.contoso.com\\pchat-logship';
const EAST = [1, 2, 3, 4].map((i) => `pchatserver${i}.contoso.com`);
const WEST = [5, 6, 7, 8].map((i) => `pchatserver${i}.contoso.com`);

let n = 0;
const newSim = () => new Simulator({ dir: mkdtempSync(path.join(os.tmpdir(), 'lyncdr-pchat-refusals-')), topology: sample, timeFactor: 0 });
const run = (s: Simulator, name: string, params: Record<string, unknown>): Promise<ExecutionResult> =>
  s.execute({ name, params }, { commandId: `pr${++n}`, timeoutMs: 10_000, whatIf: false });
async function ok(s: Simulator, name: string, params: Record<string, unknown>): Promise<void> {
  const r = await run(s, name, params);
  expect({ name, status: r.status, stderr: r.stderr }).toEqual({ name, status: 'succeeded', stderr: '' });
}
async function refused(s: Simulator, name: string, params: Record<string, unknown>, re: RegExp): Promise<void> {
  const r = await run(s, name, params);
  expect({ name, status: r.status, kind: r.errorKind }).toEqual({ name, status: 'failed', kind: 'precondition' });
  expect(r.stderr).toMatch(re);
}
const actives = async (s: Simulator) => (await s.state()).pchat!.activeServers;
/** The failover's database half (seed 001 2A step 2-3): mgc recovered on the backup, pool FailedOver. */
async function failOver(s: Simulator): Promise<void> {
  await ok(s, 'sql.deleteLogShippingSecondary', SEC);
  await ok(s, 'sql.recoverDatabase', SEC);
  await ok(s, 'pchat.setState', { identity: PCHAT, poolState: 'FailedOver' });
}

describe('Set-CsPersistentChatActiveServer: a parameter set must bind', () => {
  // No catalog command sends these: the estate is given the cmdlet as a spec, as a hand-made call would be.
  const activeServerSpec = (...args: PsArgument[]): PowerShellSpec => ({ kind: 'powershell', cmdlet: 'Set-CsPersistentChatActiveServer', arguments: [{ kind: 'value', name: 'Identity', value: 'global' }, ...args] });
  const swap: PsArgument = { kind: 'switch', name: 'Swap', value: true };

  it('with neither -ActiveServers nor -Swap, or with both, it is refused and the list is kept', async () => {
    const state = await newSim().state();
    for (const spec of [activeServerSpec(), activeServerSpec(swap, { kind: 'null', name: 'ActiveServers' })]) {
      expect(() => applySpec(state, spec, new Date())).toThrow(/^Parameter set cannot be resolved using the specified named parameters\.$/);
    }
    expect(state.pchat!.activeServers).toEqual(EAST);
  });

  it('-Swap flips every server, and is held to the placement rule like -ActiveServers', async () => {
    const state = await newSim().state();
    // Normal over a low-bandwidth link: the swap would make the West servers active.
    expect(() => applySpec(state, activeServerSpec(swap), new Date())).toThrow(/pchatserver5\.contoso\.com.*cannot be made active: while the pool is Normal/);
    expect(state.pchat!.activeServers).toEqual(EAST);
    state.pchat!.siteLinkBandwidth = 'high';
    applySpec(state, activeServerSpec(swap), new Date());
    expect(state.pchat!.activeServers).toEqual(WEST);
  });
});

describe('active servers are placed beside the mgc in use', () => {
  it('Normal: only servers of the primary SQL site can be made active', async () => {
    const s = newSim();
    await ok(s, 'pchat.clearActiveServers', { identity: 'global' });
    await refused(s, 'pchat.addActiveServers', { identity: 'global', servers: ['pchatserver1.contoso.com', 'pchatserver5.contoso.com'] },
      /pchatserver5\.contoso\.com cannot be made active: while the pool is Normal every active server must be in the data center of the mgc in use \("pchatsql-east\.contoso\.com", site east\)/);
    expect(await actives(s)).toEqual([]);
    await ok(s, 'pchat.addActiveServers', { identity: 'global', servers: ['pchatserver1.contoso.com'] });
    expect(await actives(s)).toEqual(['pchatserver1.contoso.com']);
  });

  it('FailedOver: only servers of the backup SQL site; servers already active are not re-judged', async () => {
    const s = newSim();
    await failOver(s);
    // The East actives the failover found stay listed (the list is edited, not re-judged) ...
    await ok(s, 'pchat.addActiveServers', { identity: 'global', servers: EAST.slice(0, 2) });
    await ok(s, 'pchat.clearActiveServers', { identity: 'global' });
    // ... but none of them can be made active again while the backup mgc serves.
    await refused(s, 'pchat.addActiveServers', { identity: 'global', servers: EAST.slice(0, 2) },
      /pchatserver1\.contoso\.com, pchatserver2\.contoso\.com cannot be made active: while the pool is FailedOver .*\("pchatsql-west\.contoso\.com", site west\)/);
    expect(await actives(s)).toEqual([]);
    await ok(s, 'pchat.addActiveServers', { identity: 'global', servers: WEST });
    expect(await actives(s)).toEqual(WEST);
  });
});

describe('Normal again only once the primary mgc holds the failover\'s chat', () => {
  it('refused straight after the failover and after restoring an old backup of the primary; accepted after the backup mgc is restored over it', async () => {
    const s = newSim();
    // A full backup of the primary taken before the failover: it lacks what the failover writes.
    await ok(s, 'sql.backupDatabase', { ...PRI, folder: SHARE, file: 'mgc_before.bak' });
    await failOver(s);
    await ok(s, 'pchat.clearActiveServers', { identity: 'global' });
    const wrong = /primary mgc database on "pchatsql-east\.contoso\.com" does not hold the data written while the pool was failed over to "pchatsql-west\.contoso\.com"/;
    await refused(s, 'pchat.setState', { identity: PCHAT, poolState: 'Normal' }, wrong);
    await ok(s, 'sql.removeMirroring', { ...PRI, database: 'mgc' });
    await ok(s, 'sql.restoreDatabaseReplace', { ...PRI, folder: SHARE, file: 'mgc_before.bak' });
    await refused(s, 'pchat.setState', { identity: PCHAT, poolState: 'Normal' }, wrong);
    expect((await s.state()).pchat!.state).toBe('FailedOver');

    await ok(s, 'sql.backupDatabase', { ...SEC, folder: SHARE, file: 'mgc_failback.bak' });
    await ok(s, 'sql.restoreDatabaseReplace', { ...PRI, folder: SHARE, file: 'mgc_failback.bak' });
    await ok(s, 'pchat.setState', { identity: PCHAT, poolState: 'Normal' });
    await ok(s, 'pchat.addActiveServers', { identity: 'global', servers: EAST });
    expect((await s.snapshot()).pchat).toEqual({ state: 'Normal', activeServers: EAST });
  });
});
