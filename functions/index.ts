// The single entry Azure loads (package.json "main" -> dist/functions/index.js) and the one the
// local host loads: every trigger, orchestration and activity is registered by importing its
// module here. There is no other list of functions.
import { buildPlan } from '../orchestrations/runbooks/index.js';
import { checkIdentityStartup } from './http/identity.js';
import { usePlanBuilder } from '../shared/runs/plan-source.js';
import './http/health.js';
import './http/runs.js';
import './http/pause.js';
import './http/locks.js';
import './http/schedules.js';
import './triggers/results.js';
import './triggers/schedules.js';
import './orchestrations.js';
import './activities/runs.js';
import './activities/trust.js';
import './activities/verify-result.js';
import './activities/notify.js';
import './http/links.js';
import './channels/teams/endpoint.js';

// Before anything is served: an app that could not tell who calls it must not start at all.
checkIdentityStartup();
usePlanBuilder(buildPlan);
