import { and, eq, gt, inArray, lt, sql } from 'drizzle-orm';
import {
  scheduledActionStages,
  scheduledActions,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import type { Sweeper } from '../doorbells/sweeper.ts';
import { stageDoorbell } from './model.ts';

/** How late a stage may be before the sweep assumes its doorbell was lost (s). */
const GRACE_SECONDS = 30;

/**
 * Live stages (action scheduled or running) due before `before` that have free slots and a
 * pending target due before `before`: their doorbell was lost, or they were held back by
 * the deployment-wide cap while another action's operations finished.
 */
async function stagesToRing(deps: Deps, before: Date) {
  return deps.db
    .select({ id: scheduledActionStages.id, scheduledAt: scheduledActionStages.scheduledAt })
    .from(scheduledActionStages)
    .innerJoin(scheduledActions, eq(scheduledActions.id, scheduledActionStages.actionId))
    .where(
      and(
        inArray(scheduledActions.status, ['scheduled', 'running']),
        inArray(scheduledActionStages.status, ['pending', 'running']),
        lt(scheduledActionStages.scheduledAt, before),
        gt(scheduledActionStages.pending, 0),
        lt(scheduledActionStages.running, scheduledActions.maxInFlight),
        sql`exists (select 1 from ${scheduledActionTargets} where ${scheduledActionTargets.stageId} = ${scheduledActionStages.id} and ${scheduledActionTargets.status} = 'pending' and ${scheduledActionTargets.nextAttemptAt} < ${before.toISOString()}::timestamptz)`,
      ),
    )
    .limit(500);
}

async function ring(
  deps: Deps,
  stages: { id: string; scheduledAt: Date }[],
  purpose: string,
  now: Date,
) {
  if (!stages.length) return 0;
  try {
    await deps.doorbells.ringMany(stages.map((s) => stageDoorbell(s, purpose, now)));
    return stages.length;
  } catch (err) {
    deps.log.warn('scheduler.sweep_ring_failed', { error: err, stages: stages.length });
    return 0;
  }
}

/**
 * The scheduler's part of the sweep: live stages due more than 30 s ago with free slots and
 * due pending targets are rung again. Targets hold no leases (a target is claimed, checked
 * and given its operation in one transaction, so a crash rolls the claim back); their
 * operations' leases are the operations sweeper's.
 */
export const schedulerSweeper: Sweeper = {
  name: 'scheduled-actions',
  async sweep(deps: Deps, now: Date) {
    const stages = await stagesToRing(deps, new Date(now.getTime() - GRACE_SECONDS * 1000));
    const rerung = await ring(deps, stages, `sweep-${Math.floor(now.getTime() / 60_000)}`, now);
    return { found: stages.length, rerung, leasesReturned: 0 };
  },
  async recoverAtStart(deps: Deps, now: Date) {
    const stages = await stagesToRing(deps, new Date(now.getTime() + 1));
    const rerung = await ring(deps, stages, `start-${now.getTime()}`, now);
    return { found: stages.length, rerung, leasesReturned: 0 };
  },
};
