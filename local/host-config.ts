// host.json, read the way the Functions host reads it: %NAME% is replaced by the app setting.
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

const Duration = z.string().regex(/^(\d+\.)?\d{2}:\d{2}:\d{2}$/, 'a TimeSpan like 00:00:30');

export const HostJson = z.object({
  version: z.literal('2.0'),
  extensions: z.object({
    http: z.object({ routePrefix: z.string().default('api') }).partial().default({}),
    durableTask: z.object({
      hubName: z.string().default('TestHubName'),
      maxConcurrentActivityFunctions: z.number().int().positive().default(64),
      storageProvider: z.object({
        workItemQueueVisibilityTimeout: Duration.default('00:00:30'),
        largeMessageThresholdBytes: z.number().int().positive().optional(),
      }).passthrough().partial().default({}),
    }).passthrough().partial().default({}),
    queues: z.object({ maxDequeueCount: z.number().int().positive().default(5), visibilityTimeout: Duration.default('00:00:00') }).passthrough().partial().default({}),
  }).passthrough().partial().default({}),
}).passthrough();

export interface HostConfig {
  routePrefix: string;
  hubName: string;
  maxConcurrentActivityFunctions: number;
  leaseSeconds: number;
  maxDequeueCount: number;
  /** How long a queue-trigger message that failed stays hidden before its retry (Azure: 0). */
  queueRetryVisibilitySeconds: number;
}

export function timeSpanSeconds(ts: string): number {
  const m = /^(?:(\d+)\.)?(\d{2}):(\d{2}):(\d{2})$/.exec(ts);
  if (!m) throw new Error(`'${ts}' is not a TimeSpan`);
  return Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

export function readHostConfig(file: string, env: NodeJS.ProcessEnv = process.env, hubOverride?: string): HostConfig {
  const raw = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { version: '2.0' };
  const parsed = HostJson.safeParse(raw);
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const ext = parsed.data.extensions ?? {};
  const dt = ext.durableTask ?? {};
  const expand = (s: string) => s.replace(/%([A-Za-z0-9_]+)%/g, (_, name: string) => {
    const v = env[name];
    if (v === undefined) throw new Error(`host.json refers to %${name}% but no app setting ${name} is defined`);
    return v;
  });
  return {
    routePrefix: (ext.http?.routePrefix ?? 'api').replace(/^\/+|\/+$/g, ''),
    hubName: hubOverride ?? expand(dt.hubName ?? 'TestHubName'),
    maxConcurrentActivityFunctions: dt.maxConcurrentActivityFunctions ?? 64,
    leaseSeconds: timeSpanSeconds(dt.storageProvider?.workItemQueueVisibilityTimeout ?? '00:00:30'),
    maxDequeueCount: ext.queues?.maxDequeueCount ?? 5,
    queueRetryVisibilitySeconds: timeSpanSeconds(ext.queues?.visibilityTimeout ?? '00:00:00'),
  };
}
