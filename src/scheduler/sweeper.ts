import { and, eq, gte, inArray, isNull, lt } from 'drizzle-orm';
import {
  scheduledActionStages,
  scheduledActions,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import type { Sweeper } from '../doorbells/sweeper.ts';
import { stageDoorbell } from './model.ts';
import { lockStage, settleStage, writeTargetOutcome } from './outcome.ts';

/** How late a stage may be before the sweep assumes its doorbell was lost (s). */
const GRACE_SECONDS = 30;
/** Claims of one target that may be lost to crashes before it is failed. */
const MAX_CLAIMS = 5;

/**
 * The scheduler's part of the sweep:
 * - targets claimed by a handler that died before creating their operation (lease expired,
 *   no operation) go back to pending — or fail after 5 such claims — never applied twice,
 *   because the claim and the operation are created in one transaction;
 * - live stages due more than 30 s ago that still have due pending targets are rung again.
 */
export const schedulerSweeper: Sweeper = {
  name: 'scheduled-actions',
  async sweep(deps: Deps, now: Date) {
    const expired = and(
      eq(scheduledActionTargets.status, 'running'),
      isNull(scheduledActionTargets.operationId),
      lt(scheduledActionTargets.leaseUntil, now),
    );
    const returned = await deps.db
      .update(scheduledActionTargets)
      .set({ status: 'pending', leaseUntil: null, nextAttemptAt: now })
      .where(and(expired, lt(scheduledActionTargets.attempts, MAX_CLAIMS)))
      .returning({ id: scheduledActionTargets.id, stageId: scheduledActionTargets.stageId });
    const lost = await deps.db
      .select()
      .from(scheduledActionTargets)
      .where(and(expired, gte(scheduledActionTargets.attempts, MAX_CLAIMS)))
      .limit(500);
    for (const target of lost) {
      await deps.db.transaction(async (tx) => {
        const stage = await lockStage(tx, target.stageId);
        const error = `claimed ${target.attempts} times by handlers that stopped before applying it`;
        if ((await writeTargetOutcome(tx, target, { status: 'failed', error }, now)) && stage)
          await settleStage(tx, stage, now);
      });
    }
    const grace = new Date(now.getTime() - GRACE_SECONDS * 1000);
    const stages = await deps.db
      .selectDistinct({
        id: scheduledActionStages.id,
        scheduledAt: scheduledActionStages.scheduledAt,
      })
      .from(scheduledActionStages)
      .innerJoin(scheduledActions, eq(scheduledActions.id, scheduledActionStages.actionId))
      .innerJoin(
        scheduledActionTargets,
        eq(scheduledActionTargets.stageId, scheduledActionStages.id),
      )
      .where(
        and(
          inArray(scheduledActions.status, ['scheduled', 'running']),
          inArray(scheduledActionStages.status, ['pending', 'running']),
          lt(scheduledActionStages.scheduledAt, grace),
          eq(scheduledActionTargets.status, 'pending'),
          lt(scheduledActionTargets.nextAttemptAt, grace),
        ),
      )
      .limit(500);
    // Stages whose targets were just returned are rung now, not a minute later.
    for (const stageId of new Set(returned.map((r) => r.stageId)))
      if (!stages.some((s) => s.id === stageId)) stages.push({ id: stageId, scheduledAt: now });
    let rerung = 0;
    if (stages.length) {
      const minute = Math.floor(now.getTime() / 60_000);
      try {
        await deps.doorbells.ringMany(stages.map((s) => stageDoorbell(s, `sweep-${minute}`, now)));
        rerung = stages.length;
      } catch (err) {
        deps.log.warn('scheduler.sweep_ring_failed', { error: err, stages: stages.length });
      }
    }
    return {
      found: stages.length + lost.length,
      rerung,
      leasesReturned: returned.length + lost.length,
    };
  },
};
