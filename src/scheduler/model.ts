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
/** Targets of an action being applied at once, unless the action says otherwise. */
export const DEFAULT_MAX_IN_FLIGHT = 50;
/** The largest `maxInFlight` an action may ask for. */
export const MAX_IN_FLIGHT_LIMIT = 1000;
/** Targets claimed (and given operations) per transaction. */
export const CLAIM_CHUNK = 250;
/**
 * Finishing operations ring their stage to claim more once this many of the ones claimed
 * last have finished (a tenth of `maxInFlight`, at least one): slots refill in waves, so a
 * stage at its cap costs a doorbell per wave, not per finished target.
 */
export const refillWave = (maxInFlight: number) => Math.max(1, Math.ceil(maxInFlight / 10));
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

export type SkipReason =
  | 'destroyed'
  | 'pinned'
  | 'already_on_target'
  | 'stopped'
  | 'halted'
  | 'not_found'
  | 'already_scheduled';

/**
 * The doorbell for a stage. Its deduplication id names what it is for — the stage and a
 * purpose derived from the stage's own state or a due time (`due-<ms>`, `refill-<finished>`,
 * `early-<due ms>`, `cap-<due ms>`, the sweep's `sweep-<minute>`) — so ringing twice for one
 * reason sends one message, and distinct reasons are not merged.
 */
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
