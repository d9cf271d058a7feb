// The what-if: the plan as approvers and operators read it before anything runs. It shows the
// exact lines that will be typed on their behalf, in the order they will run, with what can run
// side by side, what is safe to retry, and whether the run fits the RTO. Pure: the executor
// shows the same text in the approval request that the CLI prints.
import { validateInvocation } from '../commands/invocation.js';
import { topologicalLevels } from './dag.js';
import { forecastRto, formatDuration, PCHAT_LOGONS_PER_SECOND } from './rto.js';
import type { Plan, PlanStep, Verification } from './schema.js';

export interface RenderOptions {
  format: 'text' | 'markdown';
  /** Shown in the header when given (the hash approvers approve). */
  hash?: string;
}

function thousands(n: number): string {
  // Not toLocaleString: the output must not depend on the machine's locale.
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function safety(step: PlanStep): string {
  if (step.kind !== 'command') return '';
  const attempts = step.retry.maxAttempts;
  const retry = step.retrySafe
    ? `safe to retry (up to ${attempts} attempt${attempts === 1 ? '' : 's'})`
    : 'NOT safe to retry: runs at most once; after a timeout the operator decides';
  return `${step.effect}, ${retry}`;
}

function describeVerification(v: Verification): string {
  const checks = v.expect.map((e) => e.description).join('; ');
  return `${v.description}: ${checks}`;
}

interface StepView {
  number: number;
  step: PlanStep;
}

function stepLines(view: StepView, markdown: boolean): string[] {
  const { step, number } = view;
  const lines: string[] = [];
  const where = step.kind === 'command' ? ` [site ${step.site}]` : step.kind === 'manual' && step.site ? ` [site ${step.site}]` : '';
  const kind = step.kind === 'approval' ? 'APPROVAL' : step.kind === 'manual' ? 'MANUAL' : '';
  const head = `${number}. ${step.id}${kind ? ` (${kind})` : ''}${where}: ${step.title}`;
  lines.push(markdown ? `**${head}**` : head);
  const detail = (label: string, value: string): void => {
    lines.push(markdown ? `- ${label}: ${value}` : `   ${label}: ${value}`);
  };
  if (step.kind === 'command') {
    if (markdown) lines.push('', '```powershell', step.rendered, '```', '');
    else lines.push(`   > ${step.rendered.split('\n').join('\n     ')}`);
    detail('effect', safety(step));
  } else if (step.kind === 'manual') {
    detail('instructions', step.instructions);
  } else {
    detail('policy', `${step.policy}${step.startsRtoClock ? ' (approval starts the RTO clock)' : ''}`);
    detail('reason', step.reason);
  }
  if (step.dependsOn.length) detail('after', step.dependsOn.join(', '));
  for (const p of step.preconditions) detail('precondition', p);
  if (step.kind === 'command' && step.precheck) {
    // Read on the step's site before the command is sent; the command waits while it fails.
    detail('checked before', describeVerification(step.precheck));
    const v = validateInvocation(step.precheck.command);
    detail('check with', v.ok ? v.rendered : `${step.precheck.command.name} (invalid: ${v.error})`);
  }
  detail('timeout', `${formatDuration(step.timeoutMs)}, estimate ${formatDuration(step.estimatedMs)}`);
  if ((step.kind === 'command' || step.kind === 'manual') && step.verification) {
    // A manual step's check runs when it is confirmed; a failed check keeps the step waiting.
    detail(step.kind === 'manual' ? 'checked on confirm' : 'verify', describeVerification(step.verification));
    if (step.verification.command) {
      const v = validateInvocation(step.verification.command);
      detail('verify with', v.ok ? v.rendered : `${step.verification.command.name} (invalid: ${v.error})`);
    }
  }
  if (step.records) detail('records', step.records);
  if (step.source) detail('source', step.source);
  return lines;
}

export function renderWhatIf(plan: Plan, options: RenderOptions): string {
  const md = options.format === 'markdown';
  const out: string[] = [];
  const h = (level: number, text: string): void => {
    if (md) out.push(`${'#'.repeat(level)} ${text}`, '');
    else out.push(text, level === 1 ? '='.repeat(text.length) : '-'.repeat(text.length));
  };
  const field = (label: string, value: string): void => {
    out.push(md ? `- **${label}:** ${value}` : `${label}: ${value}`);
  };

  h(1, `What-if: ${plan.title}`);
  field('Runbook', plan.runbook);
  if (options.hash) field('Plan hash', options.hash);
  const opts = Object.entries(plan.options).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  field('Options', opts.length ? opts.join(', ') : '(none)');
  field('Targets', `RTO ${plan.targets.rtoMinutes} min, RPO ${plan.targets.rpoMinutes} min (${plan.targets.source})`);
  field('Locks', plan.locks.join(', '));
  if (plan.maintenanceWindow) field('Maintenance window', `waits until ${plan.maintenanceWindow.startsAt}: ${plan.maintenanceWindow.reason}`);
  const changes = plan.steps.filter((s) => s.kind === 'command' && s.effect !== 'read-only').length;
  const manual = plan.steps.filter((s) => s.kind === 'manual').length;
  field('Steps', `${plan.steps.length} (${changes} change the estate, ${manual} manual)`);
  out.push('');

  h(2, 'Approval gates');
  const gates = plan.steps.filter((s): s is Extract<PlanStep, { kind: 'approval' }> => s.kind === 'approval');
  if (!gates.length) out.push(md ? '- none: this plan only reads' : '  none: this plan only reads');
  for (const g of gates) {
    const line = `${g.id}: policy ${g.policy}${g.startsRtoClock ? ', starts the RTO clock' : ''}. ${g.reason}`;
    out.push(md ? `- ${line}` : `  - ${line}`);
  }
  out.push('');

  h(2, 'Steps in execution order');
  out.push(md ? '_Steps in the same level do not depend on each other and run in parallel._' : 'Steps in the same level do not depend on each other and run in parallel.', '');
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  let n = 0;
  topologicalLevels(plan).forEach((ids, i) => {
    const parallel = ids.length > 1 ? ` (${ids.length} parallel branches)` : '';
    h(3, `Level ${i + 1}${parallel}`);
    for (const id of ids) {
      n += 1;
      out.push(...stepLines({ number: n, step: byId.get(id)! }, md), '');
    }
  });

  const rto = forecastRto(plan);
  h(2, 'RTO forecast');
  field('Clock starts', rto.clockStartsAt ? `when ${rto.clockStartsAt} is approved` : 'with the first step (no declaring gate)');
  field('Critical path', `${formatDuration(rto.criticalPathMs)}: ${rto.criticalPath.join(' -> ') || '(none)'}`);
  field('Serial sum of the same steps', formatDuration(rto.serialSumMs));
  field('Persistent Chat reconnection', plan.pchatUsersReconnecting
    ? `${thousands(plan.pchatUsersReconnecting)} users at ${PCHAT_LOGONS_PER_SECOND} logons/s = ${formatDuration(rto.pchatReconnectMs)}`
    : 'none');
  const verdict = rto.withinTarget
    ? `within the ${plan.targets.rtoMinutes} min target`
    : `EXCEEDS the ${plan.targets.rtoMinutes} min target by ${formatDuration(rto.totalMs - rto.targetRtoMs)}`;
  field('Forecast RTO', `${formatDuration(rto.totalMs)}, ${verdict}`);
  return out.join('\n') + '\n';
}
