// Large audit data in blob storage. A Table entity holds at most 1 MiB, so an entry whose data is
// larger (the declared options of a run that moves 40,000 users, its 80-batch plan) keeps a
// reference instead: the blob's name, its SHA-256 and its length. The chain hashes the entry as
// stored, reference included, so it commits to the blob's content through that SHA-256; verify
// reads every referenced blob back and checks it. The blob is content-addressed and written before
// the entry, so a retried append finds the same blob and writes the same reference.
import { createHash } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { canonicalStringify, type JsonValue } from './canonical.js';
import { blobService } from '../storage/connection.js';

/** Data longer than this (canonical JSON characters: twice as many bytes in a Table entity) goes to a blob. */
export const OFFLOAD_CHARS = 256 * 1024;
export const DEFAULT_AUDIT_CONTAINER = 'lyncdr-audit';

export interface PayloadRef { container: string; blob: string; sha256: string; chars: number }
const MARK = '$auditPayload';

export const isPayloadRef = (data: unknown): data is { [MARK]: PayloadRef } =>
  typeof data === 'object' && data !== null && !Array.isArray(data) && MARK in data && Object.keys(data).length === 1;

export const payloadOf = (data: unknown): PayloadRef | undefined => (isPayloadRef(data) ? data[MARK] : undefined);

export class AuditPayloads {
  private readonly container: ContainerClient;
  private ready: Promise<unknown> | undefined;
  constructor(connectionString: string, readonly containerName = DEFAULT_AUDIT_CONTAINER) {
    this.container = blobService(connectionString).getContainerClient(containerName);
  }

  private ensure(): Promise<unknown> {
    return (this.ready ??= this.container.createIfNotExists().catch((err: unknown) => { this.ready = undefined; throw err; }));
  }

  /** The data itself when it is small; else a reference to the blob it was written to. */
  async offload(runId: string, key: string, data: JsonValue): Promise<JsonValue> {
    const text = canonicalStringify(data);
    if (text.length <= OFFLOAD_CHARS) return data;
    const sha256 = createHash('sha256').update(text, 'utf8').digest('hex');
    const blob = `${runId}/${encodeURIComponent(key)}-${sha256}.json`;
    await this.ensure();
    const client = this.container.getBlockBlobClient(blob);
    // Content-addressed: a blob that exists already holds exactly this text.
    if (!(await client.exists())) await client.upload(text, Buffer.byteLength(text, 'utf8'), { blobHTTPHeaders: { blobContentType: 'application/json' } });
    const ref: PayloadRef = { container: this.containerName, blob, sha256, chars: text.length };
    return { [MARK]: ref } as unknown as JsonValue;
  }

  /** A referenced payload's text as stored, or null when the blob is missing. */
  async text(ref: PayloadRef): Promise<string | null> {
    await this.ensure();
    try {
      return (await this.container.getBlockBlobClient(ref.blob).downloadToBuffer()).toString('utf8');
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return null;
      throw err;
    }
  }

  /** Reads a referenced payload back; says what is wrong when it is missing or not what was audited. */
  async load(ref: PayloadRef): Promise<{ ok: true; data: JsonValue } | { ok: false; error: string }> {
    return checkPayloadText(ref, await this.text(ref));
  }
}

/** A payload's text against its reference: the data, or what is wrong with it. */
export function checkPayloadText(ref: PayloadRef, text: string | null | undefined): { ok: true; data: JsonValue } | { ok: false; error: string } {
  if (text === null || text === undefined) return { ok: false, error: `its payload blob ${ref.container}/${ref.blob} is missing` };
  const sha = createHash('sha256').update(text, 'utf8').digest('hex');
  if (sha !== ref.sha256 || text.length !== ref.chars) return { ok: false, error: `its payload blob ${ref.container}/${ref.blob} was altered (SHA-256 ${sha}, audited ${ref.sha256})` };
  return { ok: true, data: JSON.parse(text) as JsonValue };
}
