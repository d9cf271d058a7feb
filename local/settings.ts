// local.settings.json, as the Functions Core Tools read it: "Values" become environment
// variables (existing ones win, as in Azure, where app settings are the environment).
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

export const LocalSettings = z.object({
  IsEncrypted: z.boolean().optional(),
  Values: z.record(z.string(), z.string()).default({}),
  Host: z.object({ LocalHttpPort: z.number().int().min(1).max(65535).optional() }).partial().default({}),
  /** Keys for authLevel 'function' routes (name -> key); none configured leaves them open, as Core Tools do. */
  FunctionKeys: z.record(z.string(), z.string().min(8)).default({}),
  /** Key for authLevel 'admin' routes. */
  MasterKey: z.string().min(8).optional(),
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
