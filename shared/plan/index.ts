export * from './schema.js';
export { validatePlan, assertValidPlan, PlanValidationError, findCycle, topologicalLevels, criticalPath, ancestors, descendants, type PlanProblem, type PlanValidation, type CriticalPath } from './dag.js';
export { planHash, PLAN_HASH_PREFIX } from './hash.js';
export { forecastRto, pchatReconnectMs, formatDuration, PCHAT_LOGONS_PER_SECOND, type RtoForecast } from './rto.js';
export { renderWhatIf, type RenderOptions } from './render.js';
