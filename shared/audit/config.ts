// Where the audit trail lives. Parsed once at the edge (activity factory, CLI) so a bad setting is
// a clear start-up error rather than a failed write halfway through a failover.
import { z } from 'zod';
import { storageConnectionString } from '../storage/connection.js';

export const DEFAULT_AUDIT_TABLE = 'LyncdrAudit';

export const AuditConfigSchema = z.strictObject({
  connectionString: z.string().min(1),
  tableName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'table name: 3-63 letters and digits, starting with a letter')
    .default(DEFAULT_AUDIT_TABLE),
  // 32 characters is the floor for a key that is not guessable; it comes from Key Vault in Azure.
  hmacKey: z.string().min(32, 'the audit HMAC key must be at least 32 characters').optional(),
  /** Blob container for entries too large for a Table entity (shared/audit/payloads.ts). */
  containerName: z.string().regex(/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/, 'container name: 3-63 lowercase letters, digits and single hyphens').optional(),
  /** Blob container of the runs' anchors (shared/audit/anchor.ts): immutable, append-only, in Azure. */
  anchorContainer: z.string().regex(/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/, 'anchor container name: 3-63 lowercase letters, digits and single hyphens').optional(),
});
export type AuditConfig = z.output<typeof AuditConfigSchema>;
export type AuditConfigInput = z.input<typeof AuditConfigSchema>;

/**
 * AzureWebJobsStorage, or Azurite's development account when it is unset, so the CLI works on a
 * laptop with `npm start` running and no settings at all.
 */
export function auditConnectionString(env: NodeJS.ProcessEnv = process.env): string {
  if (!env.AzureWebJobsStorage) return storageConnectionString({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
  return storageConnectionString(env);
}

/** Audit settings from the environment: LYNCDR_AUDIT_TABLE, LYNCDR_AUDIT_HMAC_KEY, LYNCDR_AUDIT_CONTAINER, LYNCDR_AUDIT_ANCHOR_CONTAINER, AzureWebJobsStorage. */
export function auditConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AuditConfig {
  return AuditConfigSchema.parse({
    connectionString: auditConnectionString(env),
    tableName: env.LYNCDR_AUDIT_TABLE || undefined,
    hmacKey: env.LYNCDR_AUDIT_HMAC_KEY || undefined,
    containerName: env.LYNCDR_AUDIT_CONTAINER || undefined,
    anchorContainer: env.LYNCDR_AUDIT_ANCHOR_CONTAINER || undefined,
  });
}
