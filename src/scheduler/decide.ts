import type { LockedInstance } from '../fleet/operations/batch.ts';
import { isBusy } from '../fleet/operations/batch.ts';
import { BUSY_WINDOW_MS, busyBackoffMs, type ScheduledAction, type Target } from './model.ts';

/** What happens to one claimed target. */
export type Decision =
  | { kind: 'start'; target: Target; pinMove: string | null }
  | { kind: 'skipped'; target: Target; reason: string }
  | { kind: 'failed'; target: Target; error: string }
  | { kind: 'deferred'; target: Target; busySince: Date; at: Date };

/**
 * Re-checks a claimed target against its instance as it is now (locked): destroyed, or
 * held by its deprovision → skipped `destroyed`; stopped (a restart, or a version change without `includeStopped`) → skipped;
 * pinned without override → skipped `pinned`; already on the target → skipped; busy →
 * back to pending with backoff, failed `instance_busy` after 10 minutes of trying.
 */
export function decide(
  action: ScheduledAction,
  target: Target,
  instance: LockedInstance | 'locked' | undefined,
  now: Date,
): Decision {
  if (instance === 'locked') return busy(target, now, 'locked by another change');
  const isVersion = action.actionType === 'version_change';
  if (
    !instance ||
    instance.status === 'destroyed' ||
    instance.status === 'destroying' ||
    instance.holdKind === 'deprovision'
  )
    return { kind: 'skipped', target, reason: 'destroyed' };
  if (instance.status === 'stopped' && (!isVersion || !action.includeStopped))
    return { kind: 'skipped', target, reason: 'stopped' };
  const pinned = isVersion && instance.pinnedImageTag !== null;
  if (pinned && instance.pinnedImageTag !== action.targetImageTag && !action.overridePins)
    return { kind: 'skipped', target, reason: 'pinned' };
  if (isVersion && instance.imageTag === action.targetImageTag)
    return { kind: 'skipped', target, reason: 'already_on_target' };
  if (isBusy(instance))
    return busy(
      target,
      now,
      instance.holdKind === 'cli_run'
        ? `busy with CLI run ${instance.holdId}`
        : `${instance.status}${instance.busyWithOperation ? ' with another action running' : ''}`,
    );
  return {
    kind: 'start',
    target,
    pinMove:
      pinned && instance.pinnedImageTag !== action.targetImageTag
        ? (instance.pinnedImageTag as string)
        : null,
  };
}

/** A busy instance: tried again with backoff, failed `instance_busy` after the busy window. */
function busy(target: Target, now: Date, how: string): Decision {
  const since = target.busySince ?? now;
  if (now.getTime() - since.getTime() >= BUSY_WINDOW_MS)
    return {
      kind: 'failed',
      target,
      error: `instance_busy: the instance stayed ${how} for ${BUSY_WINDOW_MS / 60_000} minutes`,
    };
  return {
    kind: 'deferred',
    target,
    busySince: since,
    at: new Date(now.getTime() + busyBackoffMs(target.attempts + 1)),
  };
}
