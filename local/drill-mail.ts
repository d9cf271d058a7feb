// The drill's people acting by e-mail (npm run drill -- --channel email): the operator declares
// through the API (a run is not started by mail), then each approver, and the operator for
// manual steps and failed steps, waits for their mail in the local SMTP sink, says which it is,
// and follows its link: the confirmation page, then its button (GET, then POST with the CSRF token).
import type { People } from './drill-driver.js';
import { clickLink, waitForMailTo } from './mail-click.js';

export function mailPeople(url: string, dir: string, say: (line: string) => void): People {
  const byMail = async (who: string, runId: string, key: (k: string) => boolean, decision: string, comment: string) => {
    const m = await waitForMailTo(dir, runId, key, who);
    say(`mail ${m.n} to ${m.to.join(', ')}: ${m.subject}`);
    const link = m.links.find((l) => l.decision === decision);
    if (!link) throw new Error(`mail ${m.n} has no ${decision} link`);
    const r = await clickLink(link.url, { as: who, comment });
    return `${who} follows its ${decision} link (page, then form): HTTP ${r.status} ${r.text.split('\n').slice(0, 2).join(': ')}`;
  };
  return {
    async start(who, runbook, options, mode) {
      const res = await fetch(`${url}/api/runs`, { method: 'POST', body: JSON.stringify({ runbook, options, mode }), headers: { 'content-type': 'application/json', 'x-lyncdr-user': who } });
      const body = (await res.json()) as { runId?: string };
      if (res.status !== 202 || !body.runId) throw new Error(`could not start ${runbook}: HTTP ${res.status} ${JSON.stringify(body)}`);
      return body.runId;
    },
    approve: (who, runId, stepId) => byMail(who, runId, (k) => k.startsWith(`gate:${stepId}:invite:`), 'approve', 'plan reviewed'),
    confirm: (who, runId, stepId) => byMail(who, runId, (k) => k === `manual:${stepId}`, 'confirm', 'done (simulated estate)'),
    // The decision mail of the step's latest failure (the driver decides once per failure).
    decide: (who, runId, stepId, decision) => byMail(who, runId, (k) => k.startsWith(`decision:${stepId}:attempt:`), decision, `${decision} on failure`),
  };
}
