// The plan hash binds an approval to exactly the plan the approvers saw (shared/approvals) and
// is written to the audit trail. It covers the plan as the contract defines it: parsing first
// applies defaults (so a plan and its JSON round trip hash alike) and drops anything outside
// the schema (a `hash` or `builtAt` a caller attached), which is what keeps it reproducible.
import { createHash } from 'node:crypto';
import { canonicalStringify } from '../audit/canonical.js';
import { Plan, type PlanInput } from './schema.js';

export const PLAN_HASH_PREFIX = 'sha256:';

export function planHash(plan: Plan | PlanInput): string {
  const normalised = Plan.parse(plan);
  return PLAN_HASH_PREFIX + createHash('sha256').update(canonicalStringify(normalised), 'utf8').digest('hex');
}
