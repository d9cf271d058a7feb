// The orchestrations, registered under the names the contract gives them.
import * as df from 'durable-functions';
import { approvalGate } from '../orchestrations/approval/approval-gate.js';
import { runPlan } from '../orchestrations/executor/run-plan.js';
import { ORCHESTRATION } from '../shared/runs/contract.js';

df.app.orchestration(ORCHESTRATION.runPlan, runPlan);
df.app.orchestration(ORCHESTRATION.approvalGate, approvalGate);
