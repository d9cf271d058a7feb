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

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
const field = (o: unknown, k: string): unknown => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined);
const afterColon = (v: unknown) => (typeof v === 'string' ? v.slice(v.indexOf(':') + 1).toLowerCase() : undefined);

/**
 * What a failback needs, read from a failover run's records (the cmdlets' own output, as
 * ConvertTo-Json gives it): Get-CsService -EdgeServer (Registrar "Registrar:<pool>"), Get-CsService
 * -PersistentChatServer (ActiveServers), Get-DnsServerResourceRecord (RecordData: IPv4Address,
 * HostNameAlias or DomainName, with the root's trailing dot). Anything it cannot read stays unset,
 * so the failback uses the configured value and says so.
 */
export function recordedFromRun(records: Record<string, unknown>, failoverOptions: Record<string, unknown> = {}): Recorded {
  const out: Recorded = {};
  const edges = asList(records['preFailover.edgeNextHops']);
  const hops: Record<string, string> = {};
  for (const e of edges) {
    const edge = (field(e, 'PoolFqdn') as string | undefined)?.toLowerCase() ?? afterColon(field(e, 'Identity'));
    const hop = afterColon(field(e, 'Registrar'));
    if (edge && hop) hops[edge] = hop;
  }
  if (Object.keys(hops).length) out.edgeNextHops = hops;
  const active = asList(records['preFailover.activeServers']).flatMap((s) => asList(field(s, 'ActiveServers'))).filter((x): x is string => typeof x === 'string');
  if (active.length) out.activeServers = active.map((x) => x.toLowerCase());
  const dns: NonNullable<Recorded['dns']> = {};
  for (const purpose of ['sip', 'meet', 'dialin', 'admin', 'lyncdiscover', 'sipinternaltls'] as const) {
    const rec = asList(records[`preFailover.dns.${purpose}`])[0];
    const data = field(rec, 'RecordData');
    const target = field(data, 'IPv4Address') ?? field(data, 'HostNameAlias') ?? field(data, 'DomainName');
    if (typeof target === 'string') dns[purpose] = target.replace(/\.$/, '');
  }
  if (Object.keys(dns).length) out.dns = dns;
  if (failoverOptions.installMirror === true) out.mirrorInstalled = true;
  return Recorded.parse(out);
}

/** The failover each failback undoes (fromRun must name a run of it). */
export const FAILOVER_OF: Readonly<Record<string, string>> = {
  'fe-pool-failback': 'fe-pool-failover', 'site-failback': 'site-failover', 'pchat-pool-failback': 'pchat-pool-failover',
};

/** What a failback's `recorded` option is, from its failover run (its report and options), or why the run cannot serve. */
export function recordedFromFailover(runbook: string, fromRun: string, from: { runbook?: string; outcome?: string; records?: Record<string, unknown>; options?: Record<string, unknown> }):
  { ok: true; recorded: Recorded } | { ok: false; error: string } {
  const want = FAILOVER_OF[runbook];
  if (!want || from.runbook !== want) return { ok: false, error: `fromRun: ${runbook} restores what a ${want ?? 'failover'} run recorded; ${fromRun} is ${from.runbook ?? 'not finished'}` };
  if (from.outcome !== 'succeeded') return { ok: false, error: `fromRun: ${fromRun} ended ${from.outcome}: its records are not a complete picture of the estate before it` };
  return { ok: true, recorded: recordedFromRun(from.records ?? {}, from.options ?? {}) };
}
