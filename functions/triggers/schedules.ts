// The scheduler's timer: one trigger that checks every schedule of LYNCDR_SCHEDULES at each tick
// (every minute; LYNCDR_SCHEDULE_TICK). One timer rather than one per schedule, because a timer
// trigger's own past-due handling says only that a tick was late: which occurrences were missed,
// and whether the previous run still goes, is the scheduler's to know (functions/schedules/tick.ts).
// A settings error refuses the app at start-up (the import throws), as the identity check does.
import { app, type InvocationContext, type Timer } from '@azure/functions';
import * as df from 'durable-functions';
import { createAuditTrail, auditConfigFromEnv } from '../../shared/audit/index.js';
import { appSettings } from '../../shared/config/index.js';
import { storageConnectionString } from '../../shared/storage/connection.js';
import { schedulesConfig } from '../schedules/config.js';
import { ScheduleStore } from '../schedules/store.js';
import { runTick } from '../schedules/tick.js';

const config = schedulesConfig();
let store: ScheduleStore | undefined;
export const scheduleStore = () => (store ??= new ScheduleStore(storageConnectionString(), schedulesConfig().table));

export async function onScheduleTick(_timer: Timer, context: InvocationContext): Promise<void> {
  const current = schedulesConfig();
  if (!current.schedules.length) return;
  await runTick({
    client: df.getClient(context), store: scheduleStore(), config: current, now: new Date(),
    trail: createAuditTrail({ ...auditConfigFromEnv(), tableName: appSettings().auditTable }),
    log: (level, m) => (level === 'error' ? context.error(m) : level === 'warn' ? context.warn(m) : context.log(m)),
  });
}

app.timer('schedules', { schedule: config.tick, extraInputs: [df.input.durableClient()], handler: onScheduleTick });
