import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';

/** The connection string of the Azurite the global setup started. */
export function azurite(): string {
  return inject('azuriteConnectionString');
}

/** A unique, storage-safe name (letters and digits) for a table, queue prefix or task hub. */
export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(4).toString('hex')}`.replace(/[^a-zA-Z0-9]/g, '').slice(0, 40);
}
