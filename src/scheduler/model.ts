import type {
  scheduledActionStages,
  scheduledActions,
  scheduledActionTargets,
} from '../../db/schema/index.ts';

export type ScheduledAction = typeof scheduledActions.$inferSelect;
export type Stage = typeof scheduledActionStages.$inferSelect;
export type Target = typeof scheduledActionTargets.$inferSelect;

export type ActionType = ScheduledAction['actionType'];

/** Doorbell path of the stage handler. */
export const STAGES_PATH = '/api/callbacks/scheduled-stages';
/** At most this many targets of one stage are being applied at once. */
export const STAGE_CONCURRENCY = 50;
/** Targets claimed per statement. */
export const CLAIM_CHUNK = 50;
/** A claimed target must have its operation within this (crash → the sweep returns it). */
export const TARGET_LEASE_MS = 60_000;
/** A busy instance is retried for this long from the first time it was busy, then failed. */
export const BUSY_WINDOW_MS = 10 * 60_000;
/** Backoff between busy retries: 15 s, 30 s, 60 s, … capped at 2 min. */
export const busyBackoffMs = (attempt: number) =>
  Math.min(120_000, 15_000 * 2 ** Math.max(0, attempt - 1));
/** How far ahead `runAt` must be, unless it is `now`. */
export const MIN_LEAD_MS = 60_000;
/** Largest selection one request may schedule. */
export const MAX_TARGETS = 20_000;

export {
  ACTION_STATUSES,
  ACTION_TYPES,
  STAGE_STATUSES,
  TARGET_STATUSES,
} from '../../db/schema/scheduler.ts';

export const LIVE_ACTION_STATUSES = ['scheduled', 'running'] as const;
export const ACTIVE_TARGET_STATUSES = ['pending', 'running'] as const;

export type SkipReason =
  | 'destroyed'
  | 'pinned'
  | 'already_on_target'
  | 'halted'
  | 'not_found'
  | 'already_scheduled';

/** The doorbell for a stage, deduplicated per purpose so distinct rings are not merged. */
export function stageDoorbell(
  stage: Pick<Stage, 'id' | 'scheduledAt'>,
  purpose: string,
  notBefore?: Date,
) {
  return {
    path: STAGES_PATH,
    body: { stageId: stage.id },
    notBefore: notBefore ?? stage.scheduledAt,
    deduplicationId: `stage-${stage.id}-${purpose}`,
  };
}
