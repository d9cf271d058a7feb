// Lync 2010's Response Group restore (legacy-site-dr step 3): Lync 2010 has no
// Import-CsRgsConfiguration, so the DBA restores the nightly SQL backup of the failed pool's
// RgsConfig database onto the DR pool's store ("Backing Up and Restoring Lync Server 2010":
// Response Group configuration is RgsConfig.mdf, restored with SQL Server). A manual step with
// the exact procedure; confirming it reads msdb's restore history on the DR store, which must
// name that night's backup file.
import type { Topology } from '../../shared/topology/schema.js';
import type { ManualStep } from '../../shared/plan/schema.js';
import { sqlServerInstance } from '../../shared/commands/values.js';
import { DURATION, expectEq, manual, verifyWith } from './steps.js';
import { rgsConfigBackup } from './legacy.js';

type Pool = Topology['frontEndPools'][number];

export function restoreRgsConfigByHand(t: Topology, failedPool: string, drPool: Pool, date: string, dependsOn: string[]): ManualStep {
  const bak = rgsConfigBackup(t, failedPool, date);
  const store = { sqlServerFqdn: drPool.backEnd.serverFqdn, ...(drPool.backEnd.instance ? { sqlInstanceName: drPool.backEnd.instance } : {}) };
  const instance = sqlServerInstance(store.sqlServerFqdn, store.sqlInstanceName);
  const server = drPool.frontEnds[0]?.fqdn ?? drPool.fqdn;
  return manual('restore-response-groups', {
    title: `Restore ${failedPool}'s Response Groups: RESTORE DATABASE rgsconfig from ${bak.path} on ${instance}`,
    site: drPool.site,
    dependsOn,
    source: 'seed 002, Activating your Lync Site Resiliency Plan; Backing Up and Restoring Lync Server 2010 (RgsConfig)',
    estimatedMs: 15 * DURATION.MIN,
    timeoutMs: 2 * 60 * DURATION.MIN,
    instructions: [
      `Lync 2010 has no Import-CsRgsConfiguration: restore the ${date} SQL backup of ${failedPool}'s RgsConfig database onto the DR store ${instance}.`,
      `1. In the Lync Server Management Shell on ${server}: Stop-CsWindowsService -Name RTCRGS -ComputerName ${server}`,
      `2. In SQL Server Management Studio (or sqlcmd -S ${instance} -E), as a sysadmin of ${instance}:`,
      `   RESTORE DATABASE [rgsconfig] FROM DISK = N'${bak.path}' WITH REPLACE, RECOVERY;`,
      `3. In the Lync Server Management Shell on ${server}: Start-CsWindowsService -Name RTCRGS -ComputerName ${server}`,
      `4. In the Lync Server Control Panel, Response Groups > Workflow: ${failedPool}'s workflows are listed.`,
      `Confirm when done: the check reads msdb's restore history on ${instance}; the newest restore of rgsconfig must be from ${bak.path}.`,
    ].join('\n'),
    verification: verifyWith(`the newest restore of rgsconfig on ${instance} is the ${date} backup`, 'sql.lastRestoredBackup', { ...store, database: 'rgsconfig' }, [
      expectEq('recordsets.0.physical_device_name', bak.path, `rgsconfig on ${instance} was restored from ${bak.path}`),
    ]),
  });
}
