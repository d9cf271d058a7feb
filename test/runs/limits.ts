// What the limits tests and the limits benchmark check after a run: Azure's limits, which the
// local host enforces (custom status; Table entities, in code), held with room to spare, and the
// largest of each, for the README.
import type { LocalHost } from '../../local/host.js';
import { CUSTOM_STATUS_MAX_KB } from '../../local/engine/replay.js';
import { largestEntity, MAX_ENTITY_BYTES } from '../../shared/storage/entity-limits.js';

/** Custom status characters Azure takes: floor(2 x chars / 1024) <= 16. */
export const CUSTOM_STATUS_MAX_CHARS = ((CUSTOM_STATUS_MAX_KB + 1) * 1024) / 2 - 1;

export interface LimitFigures { customStatusChars: number; customStatusOf: string; entityBytes: number; entityOf: string }

export function limitFigures(host: LocalHost): LimitFigures {
  return {
    customStatusChars: host.engine.largestCustomStatus.chars, customStatusOf: host.engine.largestCustomStatus.instanceId,
    entityBytes: largestEntity.bytes, entityOf: largestEntity.where,
  };
}

export { MAX_ENTITY_BYTES };
