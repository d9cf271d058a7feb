// DNS repointing shared by the failover and failback runbooks. The DnsServer module has no
// atomic "set", so a repoint is add + remove, and the order depends on the record type: an A
// record gets its new address first (clients briefly round-robin to a dead address and retry,
// which beats having no record), a CNAME must go first (two CNAMEs with one name are invalid).
import type { DnsRecord } from '../../shared/topology/schema.js';
import type { PlanStep } from '../../shared/plan/schema.js';
import { cmd, manual, verifyWith, DURATION } from './steps.js';
import { dnsKey } from './estate.js';

export interface DnsChange {
  record: DnsRecord;
  /** What the record points at now (recorded by a failover, or configured). */
  from: string;
  to: string;
  /** A failback's: where `to` came from, shown in the what-if ("recorded" or "configured"). */
  origin?: string;
}

const RR_TYPE = { A: 'A', CNAME: 'CName', SRV: 'Srv' } as const;

const where = (r: DnsRecord) => ({ dnsServer: r.dnsServer, zoneName: r.zone, name: r.name });

/** Read each record before it changes so the failback can put back exactly what was there. */
export function dnsReadSteps(changes: DnsChange[], site: string, recordsPrefix: string, source?: string): PlanStep[] {
  return changes.map(({ record: r }) =>
    cmd(`read-dns-${dnsKey(r)}`, 'dns.getRecord', { ...where(r), rrType: RR_TYPE[r.type] }, {
      title: `Record the current ${r.type} record ${r.name}.${r.zone}`,
      site,
      records: `${recordsPrefix}.dns.${dnsKey(r)}`,
      ...(source ? { source } : {}),
    }),
  );
}

/**
 * The steps that move each record from `from` to `to`, all starting after `dependsOn`. Returns
 * the ids a later verification should wait for. Clients keep a cached answer for up to the
 * record's TTL, so the last step of each record carries the TTL in its estimate: the RTO
 * forecast then counts the time until clients really use the new address.
 */
export function dnsRepointSteps(changes: DnsChange[], site: string, dependsOn: string[], source?: string): { steps: PlanStep[]; ends: string[] } {
  const steps: PlanStep[] = [];
  const ends: string[] = [];
  const src = source ? { source } : {};
  for (const { record: r, from, to, origin } of changes) {
    const key = dnsKey(r);
    const said = origin ? ` (${origin})` : '';
    const ttlMs = r.ttlSeconds * DURATION.S;
    const fqdnName = `${r.name}.${r.zone}`;
    if (r.type === 'A') {
      const add = cmd(`dns-${key}-add`, 'dns.addA', { ...where(r), ipv4Address: to, ttlSeconds: r.ttlSeconds }, {
        title: `Add A ${fqdnName} -> ${to}${said}`, site, dependsOn, ...src,
      });
      const remove = cmd(`dns-${key}-remove`, 'dns.removeRecord', { ...where(r), rrType: 'A', recordData: from }, {
        title: `Remove A ${fqdnName} -> ${from}`, site, dependsOn: [add.id], ...src,
        precheck: verifyWith(`${fqdnName} still has the address ${from}`, 'dns.getRecord', { ...where(r), rrType: 'A' }, [
          { path: 'RecordData.IPv4Address', op: 'has', value: from, description: `${fqdnName} -> ${from} is there to remove` },
        ]),
        estimatedMs: 10 * DURATION.S + ttlMs,
      });
      steps.push(add, remove);
      ends.push(remove.id);
    } else if (r.type === 'CNAME') {
      const remove = cmd(`dns-${key}-remove`, 'dns.removeRecord', { ...where(r), rrType: 'CName', recordData: from }, {
        title: `Remove CNAME ${fqdnName} -> ${from}`, site, dependsOn, ...src,
      });
      const add = cmd(`dns-${key}-add`, 'dns.addCname', { ...where(r), hostNameAlias: to, ttlSeconds: r.ttlSeconds }, {
        title: `Add CNAME ${fqdnName} -> ${to}${said}`, site, dependsOn: [remove.id], ...src,
        estimatedMs: 10 * DURATION.S + ttlMs,
        compensation: { description: `If this fails, ${fqdnName} has no record: add the CNAME back to ${from}` },
      });
      steps.push(remove, add);
      ends.push(add.id);
    } else {
      const add = cmd(`dns-${key}-add`, 'dns.addSrv', {
        ...where(r), domainName: to, priority: r.priority ?? 0, weight: r.weight ?? 0, port: r.port ?? 5061, ttlSeconds: r.ttlSeconds,
      }, { title: `Add SRV ${fqdnName} -> ${to}:${r.port ?? 5061}${said}`, site, dependsOn, ...src });
      // The catalog removes A and CNAME records only; an SRV is removed by hand so the old
      // target stops being offered to clients.
      const remove = manual(`dns-${key}-remove`, {
        title: `Remove the SRV record ${fqdnName} -> ${from}`,
        instructions: `On ${r.dnsServer}, in zone ${r.zone}, delete the SRV record ${r.name} whose target is ${from} (DNS Manager, or: Get-DnsServerResourceRecord -ComputerName ${r.dnsServer} -ZoneName ${r.zone} -Name ${r.name} -RRType Srv | Where-Object { $_.RecordData.DomainName -eq '${from}.' } | Remove-DnsServerResourceRecord -ComputerName ${r.dnsServer} -ZoneName ${r.zone} -Force). Keep the new record to ${to}.`,
        site, dependsOn: [add.id], ...src,
        verification: verifyWith(`${fqdnName} no longer offers ${from} and still offers ${to}`, 'dns.getRecord', { ...where(r), rrType: 'Srv' }, [
          { path: 'RecordData.DomainName', op: 'excludes', value: `${from}.`, description: `the SRV target ${from} is gone` },
          { path: 'RecordData.DomainName', op: 'includes', value: `${to}.`, description: `the SRV target ${to} is there` },
        ]),
        estimatedMs: 2 * DURATION.MIN + ttlMs,
        timeoutMs: 60 * DURATION.MIN,
      });
      steps.push(add, remove);
      ends.push(remove.id);
    }
  }
  return { steps, ends };
}
