// The steps every CMS move shares: the replication read a healthy move waits for, and the check
// that the CMS is active where it was moved.
import type { CommandStep, Verification } from '../../shared/plan/schema.js';
import { cmd, expectEq, verifyOutput, verifyWith } from './steps.js';

/** Get-CsManagementStoreReplicationStatus shows every replica current: the Normal set waits for that. */
export function cmsReplicationCurrent(targetPool: string, site: string, dependsOn: string[], source: string, back = false): CommandStep {
  return cmd('verify-cms-replication', 'cms.replicationStatus', {}, {
    title: `Confirm every replica has the CMS's latest changes before it moves${back ? ' back' : ''} to ${targetPool}`, site, dependsOn, source,
    verification: verifyOutput('replication is current', [{ path: 'UpToDate', op: 'excludes', value: false, description: 'no replica is behind' }]),
  });
}

/** Get-CsService -CentralManagement names `pool`. */
export function cmsActiveOn(pool: string, description: string): Verification {
  return verifyWith(description, 'cms.locate', {}, [expectEq('PoolFqdn', pool, `CMS on ${pool}`)]);
}
