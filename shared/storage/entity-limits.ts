// Azure Table Storage limits, enforced in code because Azurite accepts what Azure refuses: a
// design that only works on Azurite would break on its first day in Azure.
export const MAX_STRING_CHARS = 32 * 1024;          // a String property holds 64 KiB of UTF-16
export const MAX_PROPERTIES = 252;                  // plus PartitionKey, RowKey, Timestamp
export const MAX_ENTITY_BYTES = 1024 * 1024;        // 1 MiB
export const MAX_KEY_CHARS = 1024;
export const MAX_BATCH_OPERATIONS = 100;
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;
// eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
const FORBIDDEN_KEY = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

export class EntityLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EntityLimitError';
  }
}

export function checkKey(kind: 'PartitionKey' | 'RowKey', value: string): void {
  if (value.length > MAX_KEY_CHARS) throw new EntityLimitError(`${kind} is ${value.length} characters; Azure allows ${MAX_KEY_CHARS}`);
  if (FORBIDDEN_KEY.test(value)) throw new EntityLimitError(`${kind} '${value.slice(0, 80)}' contains a character Azure Table Storage forbids in keys (/ \\ # ? or a control character)`);
}

/** Approximate stored size, as Azure counts it (UTF-16 strings, names included). */
export function entityBytes(entity: Record<string, unknown>): number {
  let bytes = 4;
  for (const [k, v] of Object.entries(entity)) {
    if (k === 'etag' || k === 'odata.etag') continue;
    bytes += 8 + k.length * 2;
    if (typeof v === 'string') bytes += 4 + v.length * 2;
    else if (typeof v === 'number' || typeof v === 'boolean') bytes += 8;
    else if (v instanceof Date) bytes += 8;
    else if (v instanceof Uint8Array) bytes += 4 + v.byteLength;
    else if (v && typeof v === 'object' && 'value' in v) bytes += 8 + String((v as { value: unknown }).value).length * 2;
  }
  return bytes;
}

/** The largest entity this process has checked, and where (the limits tests and benchmark report it). */
export const largestEntity = { bytes: 0, where: '' };
export function noteEntitySize(bytes: number, where: string): void {
  if (bytes > largestEntity.bytes) { largestEntity.bytes = bytes; largestEntity.where = where; }
}

export function checkEntity(entity: { partitionKey: string; rowKey: string } & Record<string, unknown>): void {
  checkKey('PartitionKey', entity.partitionKey);
  checkKey('RowKey', entity.rowKey);
  const props = Object.keys(entity).filter((k) => !['partitionKey', 'rowKey', 'etag', 'timestamp', 'odata.etag'].includes(k));
  if (props.length > MAX_PROPERTIES) throw new EntityLimitError(`entity ${entity.partitionKey}/${entity.rowKey} has ${props.length} properties; Azure allows ${MAX_PROPERTIES}`);
  for (const p of props) {
    const v = entity[p];
    if (typeof v === 'string' && v.length > MAX_STRING_CHARS) {
      throw new EntityLimitError(`property '${p}' of ${entity.partitionKey}/${entity.rowKey} is ${v.length} characters; Azure allows ${MAX_STRING_CHARS}`);
    }
  }
  const size = entityBytes(entity);
  noteEntitySize(size, `${entity.partitionKey}/${entity.rowKey}`);
  if (size > MAX_ENTITY_BYTES) throw new EntityLimitError(`entity ${entity.partitionKey}/${entity.rowKey} is about ${size} bytes; Azure allows ${MAX_ENTITY_BYTES}`);
}

/** Splits text over numbered properties (name0, name1, ...) so long JSON fits the string limit. */
export function splitText(name: string, text: string, chunk = MAX_STRING_CHARS - 1024): Record<string, string | number> {
  const out: Record<string, string | number> = { [`${name}N`]: Math.ceil(text.length / chunk) || 0 };
  for (let i = 0, n = 0; i < text.length; i += chunk, n++) out[`${name}${n}`] = text.slice(i, i + chunk);
  return out;
}

export function joinText(name: string, entity: Record<string, unknown>): string | undefined {
  const n = entity[`${name}N`];
  if (typeof n !== 'number') return undefined;
  let s = '';
  for (let i = 0; i < n; i++) s += String(entity[`${name}${i}`] ?? '');
  return s;
}
