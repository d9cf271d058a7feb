// What a failover run recorded (its `records` keys) and a failback needs back. Failbacks take
// these as options so they restore exactly what was there; anything not given falls back to the
// topology's configured value, and the what-if says which one it used.
import { z } from 'zod';
import { fqdn } from '../../shared/commands/values.js';

export const Recorded = z.strictObject({
  /** preFailover.edgeNextHops: Edge pool FQDN -> the next hop it had. */
  edgeNextHops: z.record(fqdn, fqdn).optional(),
  /** preFailover.dns.<purpose>: the target (address or name) the record had, by purpose (meet, sip, ...). */
  dns: z.partialRecord(z.enum(['sip', 'meet', 'dialin', 'admin', 'lyncdiscover', 'sipinternaltls']), z.string().min(1).max(253)).optional(),
  /** preFailover.activeServers: the Persistent Chat active-server list before the failover. */
  activeServers: z.array(fqdn).min(1).max(4).optional(),
  /** Whether the failover mirrored the new primary mgc (Install-CsMirrorDatabase). */
  mirrorInstalled: z.boolean().optional(),
});
export type Recorded = z.infer<typeof Recorded>;

/** "(recorded)" or "(configured)": the what-if tells the operator where a failback value came from. */
export function origin(recordedValue: unknown): string {
  return recordedValue === undefined ? 'configured' : 'recorded';
}
