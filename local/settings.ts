// local.settings.json, as the Functions Core Tools read it: "Values" become environment
// variables (existing ones win, as in Azure, where app settings are the environment).
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

export const LocalSettings = z.object({
  IsEncrypted: z.boolean().optional(),
  Values: z.record(z.string(), z.string()).default({}),
  Host: z.object({
    LocalHttpPort: z.number().int().min(1).max(65535).optional(),
    /** Request bodies above this get 413 before they are read whole (default 4 MiB; Azure's front end allows 100 MB). */
    MaxRequestBodyBytes: z.number().int().min(1024).max(100 * 1024 * 1024).optional(),
  }).partial().default({}),
  /** Keys for authLevel 'function' routes (name -> key); none configured leaves them open, as Core Tools do. */
  FunctionKeys: z.record(z.string(), z.string().min(8)).default({}),
  /** Key for authLevel 'admin' routes; also opens /runtime/webhooks/durabletask, as in Azure. */
  MasterKey: z.string().min(8).optional(),
  /**
   * System keys (name -> key). `durabletask_extension` is the Durable extension's key: with it or a
   * MasterKey set, /runtime/webhooks/durabletask needs one of them (code= or x-functions-key).
   */
  SystemKeys: z.record(z.string(), z.string().min(8)).default({}),
});
export type LocalSettings = z.infer<typeof LocalSettings>;

export function readLocalSettings(file: string): LocalSettings {
  if (!existsSync(file)) return LocalSettings.parse({});
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = LocalSettings.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

export function applyValues(settings: LocalSettings, env: NodeJS.ProcessEnv = process.env): void {
  for (const [k, v] of Object.entries(settings.Values)) if (env[k] === undefined) env[k] = v;
}
