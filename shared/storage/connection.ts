// One place that turns configuration into storage clients, so every part (engine, audit,
// worker transport) reaches Azurite or Azure the same way.
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { QueueServiceClient } from '@azure/storage-queue';
import { BlobServiceClient } from '@azure/storage-blob';

/** Azurite's well-known development account (public, documented by Microsoft). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuritePorts { blob: number; queue: number; table: number }

export function azuriteConnectionString(ports: AzuritePorts, host = '127.0.0.1'): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${AZURITE_ACCOUNT}`,
    `AccountKey=${AZURITE_KEY}`,
    `BlobEndpoint=http://${host}:${ports.blob}/${AZURITE_ACCOUNT}`,
    `QueueEndpoint=http://${host}:${ports.queue}/${AZURITE_ACCOUNT}`,
    `TableEndpoint=http://${host}:${ports.table}/${AZURITE_ACCOUNT}`,
  ].join(';') + ';';
}

/** The connection string the app uses: AzureWebJobsStorage, as in Azure. */
export function storageConnectionString(env: NodeJS.ProcessEnv = process.env): string {
  const cs = env.AzureWebJobsStorage;
  if (!cs) throw new Error('AzureWebJobsStorage is not set: point it at Azurite or a storage account');
  if (cs === 'UseDevelopmentStorage=true') return azuriteConnectionString({ blob: 10000, queue: 10001, table: 10002 });
  return cs;
}

const allowHttp = (cs: string) => /DefaultEndpointsProtocol=http;|Endpoint=http:\/\//i.test(cs);

export function tableClient(cs: string, table: string): TableClient {
  return TableClient.fromConnectionString(cs, table, { allowInsecureConnection: allowHttp(cs) });
}
export function tableService(cs: string): TableServiceClient {
  return TableServiceClient.fromConnectionString(cs, { allowInsecureConnection: allowHttp(cs) });
}
export function queueService(cs: string): QueueServiceClient {
  return QueueServiceClient.fromConnectionString(cs);
}
export function blobService(cs: string): BlobServiceClient {
  return BlobServiceClient.fromConnectionString(cs);
}

/**
 * Creates the client's table on first use, once; a failed attempt is tried again on the next use
 * (the storage account may not be reachable yet when the app starts).
 */
export function tableOnFirstUse(client: TableClient): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () => (ready ??= ensureTable(client).catch((err: unknown) => { ready = undefined; throw err; }));
}

/** Creates a table, treating "already exists" as success (idempotent start-up). */
export async function ensureTable(client: TableClient): Promise<void> {
  try {
    await client.createTable();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 409) throw err;
  }
}
