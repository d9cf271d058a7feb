// The manual steps of the runbooks, done in the simulated estate as the administrator would (the
// same actions as `lyncdr lab manual`): each manual step is checked when it is confirmed, so a
// drill must do the work before it confirms.
import type { Simulator } from '../worker/simulator/simulator.js';

/**
 * The manual steps of the drilled runbooks, done in the simulated estate as the administrator
 * would (the same actions as `lyncdr lab manual`): each is checked when confirmed.
 */
export async function doManualStep(sim: Simulator, step: string): Promise<string | undefined> {
  if (step === 'pchat-recreate-log-shipping') return sim.reestablishLogShipping();
  if (step === 'restore-response-groups') return sim.restoreRgsConfig();
  if (/^dns-.+-remove$/.test(step)) {
    // The SRV record's old target: a pool that is down, or in a site that is down.
    const st = await sim.state();
    const lost = Object.values(st.pools).filter((p) => !p.up || st.sites[p.site]?.up === false).map((p) => p.fqdn.toLowerCase());
    const targets = Object.values(st.dns).filter((r) => r.type === 'SRV').flatMap((r) => r.records.map((d) => d.split(' ').at(-1)!.toLowerCase().replace(/\.$/, '')));
    const old = targets.find((t) => lost.includes(t));
    if (old) return sim.removeSrvTarget(old);
  }
  return undefined;
}

