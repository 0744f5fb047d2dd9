import type { agents } from '../../db/schema/index.ts';
import { fireTimesUntil, nextFireAfter, parseSchedule } from './cron.ts';

export type Agent = typeof agents.$inferSelect;

/** `all` catches up at most this many missed fire times per claim. */
export const CATCHUP_CAP = 100;

/**
 * A fire time claimed later than this after it (ms) was missed (the product or its queue
 * was down), and the agent's catch-up policy decides whether it fires. Within it a fire is
 * on time: a lost doorbell rung again by the every-minute sweep still fires.
 */
export const ON_TIME_MS = 2 * 60_000;

export type FirePlan =
  | { kind: 'broken'; reason: string }
  | {
      kind: 'fire';
      /** The fire times to start sessions for, in order (may be empty: all missed, `skip`). */
      fires: Date[];
      /** Missed fire times inside the window that the catch-up policy dropped (under `skip`, not counted). */
      dropped: number;
      /** The first fire time after `now`: the agent's new `next_fire_at`. */
      next: Date | null;
    };

/**
 * What claiming an agent due at `now` does: which of its fire times from `next_fire_at` up to
 * `now` start a session, and its next fire time. A fire time within {@link ON_TIME_MS} of
 * `now` always fires; older ones were missed: `skip` fires none of them, `once` the most
 * recent, `all` each in order (the latest {@link CATCHUP_CAP}); none older than the agent's
 * catch-up window. An expression or zone that no longer parses gives `broken`.
 */
export function planFires(agent: Agent, now: Date): FirePlan {
  if (agent.cronExpression === null) return { kind: 'broken', reason: 'it has no schedule' };
  const parsed = parseSchedule(agent.cronExpression, agent.timeZone);
  if (!parsed.ok)
    return {
      kind: 'broken',
      reason: `${parsed.problem.field === 'timeZone' ? 'time zone' : 'cron expression'}: ${parsed.problem.message}`,
    };
  const { schedule } = parsed;
  const seen = agent.nextFireAt;
  if (!seen || seen > now)
    return { kind: 'fire', fires: [], dropped: 0, next: nextFireAfter(schedule, now) };
  const windowStart = new Date(now.getTime() - agent.catchupWindowSeconds * 1000);
  const onTimeFrom = new Date(now.getTime() - ON_TIME_MS);
  // Walk from the later of the seen fire time and the window (older ones fire under no
  // policy), and under `skip` from the on-time bound: missed ones would only be dropped.
  const floor = agent.catchupPolicy === 'skip' ? onTimeFrom : windowStart;
  const from = new Date(Math.max(seen.getTime(), floor.getTime()) - 1);
  const { due, next } = fireTimesUntil(schedule, from, now, Number.MAX_SAFE_INTEGER);
  const onTime = due.filter((f) => f >= onTimeFrom);
  const missed = due.filter((f) => f < onTimeFrom);
  let caught: Date[] = [];
  if (agent.catchupPolicy === 'once') caught = missed.slice(-1);
  if (agent.catchupPolicy === 'all') caught = missed.slice(-CATCHUP_CAP);
  return {
    kind: 'fire',
    fires: [...caught, ...onTime],
    dropped: missed.length - caught.length,
    next,
  };
}
