// A message that does not parse as a ResultMessage can still be a genuine worker's (a status no
// worker of this version sends, say): when it names its run, command and site with the right
// types, it can be authenticated, and a genuine one goes to its step to be recorded as malformed.
// Shared by the results trigger and the run's own check of what was raised into it (executor 12).
import { CommandId, ResultMessage, SiteName } from '../messages.js';

/**
 * The fields a result is matched and authenticated by, when they have the right types: the body
 * itself (its signature covers every field), or undefined. Only the authentication makes it
 * count; the orchestrator parses it again and finds it malformed.
 */
export function correlated(body: unknown): ResultMessage | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const b = body as Record<string, unknown>;
  const ok = SiteName.safeParse(b.site).success && CommandId.safeParse(b.commandId).success && typeof b.signature === 'string'
    && typeof b.runId === 'string' && b.runId.length > 0 && b.runId.length <= 200 && typeof b.stepId === 'string' && b.stepId.length <= 200
    && typeof b.workerId === 'string' && (b.attempt === undefined || Number.isInteger(b.attempt));
  return ok ? (body as ResultMessage) : undefined;
}

/** The result a body carries: parsed when it parses, else the correlated body; undefined when it is no result at all. */
export function resultIn(body: unknown): { result: ResultMessage; parsed: boolean } | undefined {
  const r = ResultMessage.safeParse(body);
  if (r.success) return { result: r.data, parsed: true };
  const c = correlated(body);
  return c ? { result: c, parsed: false } : undefined;
}
