import { count } from '../plural.ts';

/** Words the scheduler pages share: action types, exclusion and skip reasons. */
export const ACTION_LABEL: Record<string, string> = {
  restart: 'Restart',
  version_change: 'Version change',
};

export const EXCLUSION_LABEL: Record<string, string> = {
  destroyed: 'Destroyed',
  stopped: 'Stopped (left out unless "include stopped" for a version change)',
  pinned: 'Pinned (no override)',
  alreadyOnTarget: 'Already on the target version',
  alreadyScheduled: 'Already have a pending action',
  notFound: 'Not found',
};

export const SKIP_LABEL: Record<string, string> = {
  destroyed: 'destroyed',
  pinned: 'pinned',
  already_on_target: 'already on target',
  stopped: 'stopped',
  halted: 'halted by the failure gate',
  not_found: 'not found',
  already_scheduled: 'already scheduled',
};

/** "3 instances" / "1 instance". */
export const instancesWord = (n: number) => count(n, 'instance');

/** Finished targets (applied, skipped, failed, cancelled) out of the total. */
export function doneOf(c: {
  applied: number;
  skipped: number;
  failed: number;
  cancelled: number;
}): number {
  return c.applied + c.skipped + c.failed + c.cancelled;
}
