import type { OverlapPolicy, SessionReason, SessionStatus } from '../../db/schema/index.ts';

/** A session of the agent that is not finished, as the overlap decision sees it. */
export type LiveSession = { id: string; status: SessionStatus };

export type FireDecision = {
  scheduledFor: Date;
  status: Extract<SessionStatus, 'creating' | 'buffered' | 'skipped'>;
  reason: SessionReason | null;
};

/**
 * The overlap decision for the fires of one claim, in order, as Temporal Schedules define
 * the policies (docs.temporal.io, Schedules: overlap policy), against the agent's live
 * sessions (any trigger) and the fires decided before in the same claim:
 * - `skip`: a live session → `skipped` (`overlap`);
 * - `buffer_one`: a live session → `buffered` (started when it ends), unless one is already
 *   buffered → `skipped`;
 * - `allow_all`: always started;
 * - `cancel_other`: started; the start step cancels the live sessions first. A fire that a
 *   later fire of the same claim would cancel at once is `skipped` (`overlap`) instead.
 */
export function decideOverlap(
  policy: OverlapPolicy,
  live: LiveSession[],
  fires: Date[],
): FireDecision[] {
  let running = live.some((s) => s.status === 'creating' || s.status === 'ready');
  let buffered = live.some((s) => s.status === 'buffered');
  return fires.map((scheduledFor, i): FireDecision => {
    const start: FireDecision = { scheduledFor, status: 'creating', reason: null };
    const skip: FireDecision = { scheduledFor, status: 'skipped', reason: 'overlap' };
    if (policy === 'allow_all') return start;
    if (policy === 'cancel_other') return i === fires.length - 1 ? start : skip;
    if (!running) {
      running = true;
      return start;
    }
    if (policy === 'buffer_one' && !buffered) {
      buffered = true;
      return { scheduledFor, status: 'buffered', reason: null };
    }
    return skip;
  });
}
