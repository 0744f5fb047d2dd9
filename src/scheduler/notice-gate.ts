import { type SQL, sql } from 'drizzle-orm';

// What the scheduler tells the notices feature about a target, as SQL predicates to put in
// its own guarded statements. The notices feature never reads the scheduler's tables
// itself: its claim embeds `targetAwaitsStart` so that one statement re-checks, as it
// claims, that the target is still pending and its action and stage are live.

/**
 * True while the target identified by `targetId` (an SQL expression, e.g. a column) is
 * pending in a live stage (pending or running) of a live action (scheduled or running):
 * a notice announcing it is still true. A paused or halted action makes this false until
 * it is resumed, which is how its unsent notices are held.
 */
export function targetAwaitsStart(targetId: SQL): SQL {
  return sql`exists (
    select 1 from scheduled_action_targets t
    join scheduled_action_stages s on s.id = t.stage_id
    join scheduled_actions a on a.id = t.action_id
    where t.id = ${targetId} and t.status = 'pending'
      and s.status in ('pending', 'running') and a.status in ('scheduled', 'running'))`;
}

/**
 * True when the target can no longer start: it is being applied or finished (applied,
 * failed, cancelled, or skipped for any reason but `halted`, which a resume undoes). Its
 * unsent notice will never be true again.
 */
export function targetSettled(targetId: SQL): SQL {
  return sql`exists (
    select 1 from scheduled_action_targets t
    where t.id = ${targetId}
      and (t.status in ('running', 'applied', 'failed', 'cancelled')
        or (t.status = 'skipped' and t.skip_reason is distinct from 'halted')))`;
}
