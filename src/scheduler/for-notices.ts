import { inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { scheduledActions } from '../../db/schema/index.ts';
import type { ActionType } from './model.ts';

// The one interface the notices feature uses of the scheduler (the scheduler calls the
// notices' verbs; notices call only these, so the two meet without a cycle): what a target
// is, as SQL predicates to put in notices' own guarded statements, and what an action is,
// for the words of a notice. The notices feature never reads the scheduler's tables itself:
// its claim embeds `targetAwaitsStart` so that one statement re-checks, as it claims, that
// the target is still pending and its action and stage are live.

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

/** What a message about these actions needs to say: their type and target image, by id. */
export async function actionSummaries(
  db: Db,
  ids: string[],
): Promise<Map<string, { actionType: ActionType; targetImageTag: string | null }>> {
  if (!ids.length) return new Map();
  const rows = await db
    .select({
      id: scheduledActions.id,
      actionType: scheduledActions.actionType,
      targetImageTag: scheduledActions.targetImageTag,
    })
    .from(scheduledActions)
    .where(inArray(scheduledActions.id, [...new Set(ids)]));
  return new Map(rows.map((r) => [r.id, r]));
}
