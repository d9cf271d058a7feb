// What travels on the task hub's queues. Parsed with zod: a message is a trust boundary too (a
// hand-edited or truncated one must be dead-lettered, not crash the dispatcher).
import { z } from 'zod';
import type { HistoryEvent } from './history.js';

/** A history event on the wire: the receiver stamps IsPlayed and Timestamp. */
export type WireEvent = Omit<HistoryEvent, 'IsPlayed' | 'Timestamp'> & {
  IsPlayed?: boolean;
  Timestamp?: string;
  /** On a sub-orchestration's ExecutionStarted: the parent's task id for it. */
  LyncdrParentTaskId?: number;
};
const event = z.object({ EventType: z.number().int(), EventId: z.number().int() }).passthrough() as unknown as z.ZodType<WireEvent>;

export const ControlMessage = z.object({
  t: z.literal('c'),
  /** Target instance. */
  id: z.string().min(1),
  /** Execution the event belongs to; absent for events that target whatever runs (raise, terminate, start). */
  x: z.string().optional(),
  /** Unique message id (deduplication of raised events). */
  m: z.string(),
  e: event,
});
export type ControlMessage = z.infer<typeof ControlMessage>;

/** Activities an episode scheduled, in one message: one queue write and one delete per episode
 * (chunked to fit a queue message) instead of two per activity. */
export const WorkItem = z.object({
  task: z.number().int().nonnegative(),
  name: z.string().min(1),
  input: z.string().optional(),
});
export type WorkItem = z.infer<typeof WorkItem>;

export const WorkItemMessage = z.object({
  t: z.literal('w'),
  id: z.string().min(1),
  x: z.string(),
  items: z.array(WorkItem).min(1),
  m: z.string(),
});
export type WorkItemMessage = z.infer<typeof WorkItemMessage>;
