import { and, asc, count, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  scheduledActionStages,
  scheduledActions,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import type { OperationListener } from '../fleet/operations/store.ts';
import { type Stage, stageDoorbell, type Target } from './model.ts';

export type TargetOutcome =
  | { status: 'applied' }
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; error: string }
  | { status: 'cancelled' };

/** Locks a stage row: outcome writes of one stage run one at a time, so completion is seen exactly once. */
export async function lockStage(tx: Db, stageId: string): Promise<Stage | null> {
  const [stage] = await tx
    .select()
    .from(scheduledActionStages)
    .where(eq(scheduledActionStages.id, stageId))
    .for('update');
  return stage ?? null;
}

/**
 * Records a target's outcome and bumps the stage's and action's counter, in the caller's
 * transaction, guarded by the target's current status (`from`): a duplicate or late
 * writer finds nothing to update and changes nothing. Returns whether it wrote.
 */
export async function writeTargetOutcome(
  tx: Db,
  target: Pick<Target, 'id' | 'stageId' | 'actionId'>,
  outcome: TargetOutcome,
  now: Date,
  from: ('pending' | 'running')[] = ['running'],
): Promise<boolean> {
  const [row] = await tx
    .update(scheduledActionTargets)
    .set({
      status: outcome.status,
      skipReason: outcome.status === 'skipped' ? outcome.reason : null,
      error: outcome.status === 'failed' ? outcome.error : null,
      leaseUntil: null,
      finishedAt: now,
      ...(outcome.status === 'applied' ? { appliedAt: now } : {}),
    })
    .where(
      and(eq(scheduledActionTargets.id, target.id), inArray(scheduledActionTargets.status, from)),
    )
    .returning({ id: scheduledActionTargets.id });
  if (!row) return false;
  const column = sql.identifier(outcome.status);
  await tx.execute(
    sql`update scheduled_action_stages set ${column} = ${column} + 1 where id = ${target.stageId}`,
  );
  await tx.execute(
    sql`update scheduled_actions set ${column} = ${column} + 1 where id = ${target.actionId}`,
  );
  return true;
}

export type Settled = {
  /** Targets of the stage still pending and due now (the caller may claim more). */
  pendingDue: number;
  stageFinished: boolean;
  /** A later stage that is already due, to ring now that this one finished. */
  nextDue: Stage | null;
};

/**
 * Finishes a stage once none of its targets is pending or running (call with the stage
 * locked): the failure gate halts the action — later stages `halted`, their targets
 * skipped with `halted` — when more than the threshold of its applied + failed targets
 * failed; otherwise the stage completes, and the last stage completes the action:
 * `completed` when anything was applied or skipped, `failed` when everything failed,
 * `cancelled` when every target was cancelled.
 */
export async function settleStage(tx: Db, stage: Stage, now: Date): Promise<Settled> {
  const open = await tx
    .select({
      status: scheduledActionTargets.status,
      due: sql<boolean>`${scheduledActionTargets.nextAttemptAt} <= ${now.toISOString()}::timestamptz`,
    })
    .from(scheduledActionTargets)
    .where(
      and(
        eq(scheduledActionTargets.stageId, stage.id),
        inArray(scheduledActionTargets.status, ['pending', 'running']),
      ),
    );
  const pendingDue = open.filter((t) => t.status === 'pending' && t.due).length;
  if (open.length > 0 || (stage.status !== 'pending' && stage.status !== 'running'))
    return { pendingDue, stageFinished: false, nextDue: null };
  const [counts] = await tx
    .select()
    .from(scheduledActionStages)
    .where(eq(scheduledActionStages.id, stage.id));
  const [action] = await tx
    .select()
    .from(scheduledActions)
    .where(eq(scheduledActions.id, stage.actionId))
    .for('update');
  if (!counts || !action) return { pendingDue, stageFinished: false, nextDue: null };
  const decided = counts.applied + counts.failed;
  const failedPct = decided ? (counts.failed / decided) * 100 : 0;
  const threshold = action.failureThresholdPercent;
  const halt = threshold !== null && decided > 0 && failedPct > threshold;
  const gateResult =
    threshold === null
      ? `no gate: ${counts.failed} of ${decided} failed`
      : `${halt ? 'halted' : 'passed'}: ${counts.failed} of ${decided} failed (${failedPct.toFixed(1)}% ${halt ? '>' : '≤'} ${threshold}%)`;
  await tx
    .update(scheduledActionStages)
    .set({ status: 'completed', completedAt: now, gateResult })
    .where(eq(scheduledActionStages.id, stage.id));
  const later = await tx
    .select()
    .from(scheduledActionStages)
    .where(
      and(
        eq(scheduledActionStages.actionId, action.id),
        gt(scheduledActionStages.index, stage.index),
        inArray(scheduledActionStages.status, ['pending', 'running']),
      ),
    )
    .orderBy(asc(scheduledActionStages.index));
  if (halt && action.status === 'running') {
    await haltLaterStages(
      tx,
      action.id,
      later.map((s) => s.id),
      now,
    );
    await tx
      .update(scheduledActions)
      .set({ status: 'halted' })
      .where(eq(scheduledActions.id, action.id));
    return { pendingDue, stageFinished: true, nextDue: null };
  }
  if (later.length === 0) {
    await finishAction(tx, action.id, now);
    return { pendingDue, stageFinished: true, nextDue: null };
  }
  const next = later[0] ?? null;
  return {
    pendingDue,
    stageFinished: true,
    nextDue: next && next.scheduledAt <= now ? next : null,
  };
}

async function haltLaterStages(tx: Db, actionId: string, stageIds: string[], now: Date) {
  if (!stageIds.length) return;
  await tx
    .update(scheduledActionStages)
    .set({ status: 'halted', gateResult: 'halted by an earlier stage' })
    .where(inArray(scheduledActionStages.id, stageIds));
  const skipped = await tx
    .update(scheduledActionTargets)
    .set({ status: 'skipped', skipReason: 'halted', finishedAt: now })
    .where(
      and(
        inArray(scheduledActionTargets.stageId, stageIds),
        eq(scheduledActionTargets.status, 'pending'),
      ),
    )
    .returning({ stageId: scheduledActionTargets.stageId });
  const perStage = new Map<string, number>();
  for (const s of skipped) perStage.set(s.stageId, (perStage.get(s.stageId) ?? 0) + 1);
  for (const [stageId, n] of perStage)
    await tx
      .update(scheduledActionStages)
      .set({ skipped: sql`${scheduledActionStages.skipped} + ${n}` })
      .where(eq(scheduledActionStages.id, stageId));
  if (skipped.length)
    await tx
      .update(scheduledActions)
      .set({ skipped: sql`${scheduledActions.skipped} + ${skipped.length}` })
      .where(eq(scheduledActions.id, actionId));
}

/** Sets the final status from the counters (only a live action; a cancelled one stays cancelled). */
export async function finishAction(tx: Db, actionId: string, now: Date) {
  const [a] = await tx.select().from(scheduledActions).where(eq(scheduledActions.id, actionId));
  if (!a || (a.status !== 'scheduled' && a.status !== 'running')) return;
  const status =
    a.cancelled === a.total ? 'cancelled' : a.applied + a.skipped > 0 ? 'completed' : 'failed';
  await tx
    .update(scheduledActions)
    .set({ status, completedAt: now, ...(status === 'cancelled' ? { cancelledAt: now } : {}) })
    .where(eq(scheduledActions.id, actionId));
}

/** Pending targets of a stage, for the console's progress. */
export async function stageOpenCounts(db: Db, stageId: string) {
  const rows = await db
    .select({ status: scheduledActionTargets.status, n: count() })
    .from(scheduledActionTargets)
    .where(
      and(
        eq(scheduledActionTargets.stageId, stageId),
        inArray(scheduledActionTargets.status, ['pending', 'running']),
      ),
    )
    .groupBy(scheduledActionTargets.status);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/**
 * The operation listener: when the instance operation applying a target finishes, the
 * target becomes `applied` (the machine runs the expected version and answers healthy)
 * or `failed` with the operation's reason, in the same transaction; the stage may finish.
 * After commit, the stage is rung to start more of its targets, or the next stage if due.
 */
export const recordTargetOutcome: OperationListener = async (ctx, tx, op, result, now) => {
  const [target] = await tx
    .select()
    .from(scheduledActionTargets)
    .where(
      and(
        eq(scheduledActionTargets.operationId, op.id),
        eq(scheduledActionTargets.status, 'running'),
      ),
    );
  if (!target) return undefined;
  const stage = await lockStage(tx, target.stageId);
  if (!stage) return undefined;
  const wrote = await writeTargetOutcome(
    tx,
    target,
    result.ok ? { status: 'applied' } : { status: 'failed', error: result.error },
    now,
  );
  if (!wrote) return undefined;
  const settled = await settleStage(tx, stage, now);
  return ringAfter(ctx, stage, settled, `op-${op.id}`, now);
};

/** After-commit doorbells: more of this stage, or the next stage that waited for it. */
export function ringAfter(
  ctx: Pick<Deps, 'doorbells' | 'log'>,
  stage: Stage,
  settled: Settled,
  purpose: string,
  now: Date,
) {
  return async () => {
    if (settled.pendingDue > 0) await ringStage(ctx, stage, `wave-${purpose}`, now);
    if (settled.nextDue) await ringStage(ctx, settled.nextDue, `after-${stage.id}`, now);
  };
}

/** Rings a stage's doorbell for `at`; a failure is logged and left to the sweep. */
export async function ringStage(
  ctx: Pick<Deps, 'doorbells' | 'log'>,
  stage: Pick<Stage, 'id' | 'scheduledAt'>,
  purpose: string,
  at: Date,
): Promise<void> {
  try {
    await ctx.doorbells.ring(stageDoorbell(stage, purpose, at));
  } catch (err) {
    ctx.log.warn('scheduler.ring_failed', { stageId: stage.id, purpose, error: err });
  }
}
