import { and, asc, eq, getTableColumns, gt, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  scheduledActionStages,
  scheduledActions,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Deps } from '../deps.ts';
import type { OperationListener } from '../fleet/operations/store.ts';
import { type Stage, stageDoorbell } from './model.ts';

/** A target's terminal outcome; each has a counter of the same name on stages and actions. */
export type OutcomeStatus = 'applied' | 'skipped' | 'failed' | 'cancelled';

const stageCol = {
  applied: scheduledActionStages.applied,
  skipped: scheduledActionStages.skipped,
  failed: scheduledActionStages.failed,
  cancelled: scheduledActionStages.cancelled,
} as const;
const actionCol = {
  applied: scheduledActions.applied,
  skipped: scheduledActions.skipped,
  failed: scheduledActions.failed,
  cancelled: scheduledActions.cancelled,
} as const;

/** SET parts that add `n` to a stage's (or an action's) outcome counter. */
export const bumpStage = (status: OutcomeStatus, n: number | SQL = 1) => ({
  [status]: sql`${stageCol[status]} + ${n}`,
});
export const bumpAction = (status: OutcomeStatus, n: number | SQL = 1) => ({
  [status]: sql`${actionCol[status]} + ${n}`,
});
type SQL = ReturnType<typeof sql>;

/** A stage is done when nothing of it is pending or running. */
export const stageDrained = (s: Pick<Stage, 'pending' | 'running'>) =>
  s.pending === 0 && s.running === 0;

export type Settled = {
  stageFinished: boolean;
  /** A later stage that is already due, to ring now that this one finished. */
  nextDue: Stage | null;
};

/**
 * Finishes a drained running stage (call with the stage row locked by this transaction,
 * and its counters current): the failure gate halts the action — later stages `halted`,
 * their targets skipped with `halted` — when more than the threshold of its applied +
 * failed targets failed and there is a later stage to halt; otherwise the stage completes,
 * and the last stage completes the action. Reads only counters, never the stage's targets.
 * A pending stage is never settled here, even when emptied by cancels: it settles when its
 * turn comes (its claim opens it), so stages always finish in order and pass their gates.
 */
export async function settleStage(tx: Db, stage: Stage, now: Date): Promise<Settled> {
  if (!stageDrained(stage) || stage.status !== 'running')
    return { stageFinished: false, nextDue: null };
  const [action] = await tx
    .select()
    .from(scheduledActions)
    .where(eq(scheduledActions.id, stage.actionId))
    .for('update');
  if (!action) return { stageFinished: false, nextDue: null };
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
  const decided = stage.applied + stage.failed;
  const failedPct = decided ? (stage.failed / decided) * 100 : 0;
  const threshold = action.failureThresholdPercent;
  const over = threshold !== null && decided > 0 && failedPct > threshold;
  // The last stage has nothing after it to hold back: over the gate, the action just ends.
  const halt = over && later.length > 0;
  const counted = `${stage.failed} of ${decided} failed (${failedPct.toFixed(1)}% ${over ? '>' : '≤'} ${threshold}%)`;
  const gateResult =
    threshold === null
      ? `no gate: ${stage.failed} of ${decided} failed`
      : halt
        ? `halted: ${counted}`
        : over
          ? `over the gate, the last stage: ${counted}`
          : `passed: ${counted}`;
  await tx
    .update(scheduledActionStages)
    .set({ status: 'completed', completedAt: now, gateResult })
    .where(eq(scheduledActionStages.id, stage.id));
  if (halt && (action.status === 'running' || action.status === 'paused')) {
    await haltStages(tx, action.id, later, now);
    await tx
      .update(scheduledActions)
      .set({ status: 'halted', pausedAt: null })
      .where(eq(scheduledActions.id, action.id));
    return { stageFinished: true, nextDue: null };
  }
  if (later.length === 0) {
    await finishAction(tx, action.id, now);
    return { stageFinished: true, nextDue: null };
  }
  const next = later[0] ?? null;
  return { stageFinished: true, nextDue: next && next.scheduledAt <= now ? next : null };
}

/** Later stages are halted by a failed gate: their pending targets are skipped `halted`. */
async function haltStages(tx: Db, actionId: string, stages: Stage[], now: Date) {
  if (!stages.length) return;
  const ids = stages.map((s) => s.id);
  const skipped = stages.reduce((n, s) => n + s.pending, 0);
  await tx
    .update(scheduledActionTargets)
    .set({ status: 'skipped', skipReason: 'halted', finishedAt: now })
    .where(
      and(
        inArray(scheduledActionTargets.stageId, ids),
        eq(scheduledActionTargets.status, 'pending'),
      ),
    );
  await tx
    .update(scheduledActionStages)
    .set({
      status: 'halted',
      gateResult: 'halted by an earlier stage',
      skipped: sql`${scheduledActionStages.skipped} + ${scheduledActionStages.pending}`,
      pending: 0,
    })
    .where(inArray(scheduledActionStages.id, ids));
  if (skipped)
    await tx
      .update(scheduledActions)
      .set(bumpAction('skipped', skipped))
      .where(eq(scheduledActions.id, actionId));
}

/**
 * Sets the final status from the counters (only an action that has not ended; a cancelled
 * one stays cancelled): `cancelled` when every target was cancelled, `completed` when
 * anything was applied or skipped (with failures, the failed count says so), else `failed`.
 */
export async function finishAction(tx: Db, actionId: string, now: Date) {
  const [a] = await tx.select().from(scheduledActions).where(eq(scheduledActions.id, actionId));
  if (!a || (a.status !== 'scheduled' && a.status !== 'running' && a.status !== 'paused')) return;
  const status =
    a.cancelled === a.total ? 'cancelled' : a.applied + a.skipped > 0 ? 'completed' : 'failed';
  await tx
    .update(scheduledActions)
    .set({
      status,
      completedAt: now,
      pausedAt: null,
      ...(status === 'cancelled' ? { cancelledAt: now } : {}),
    })
    .where(eq(scheduledActions.id, actionId));
}

/**
 * The operation listener: when the instance operation applying a target finishes, one
 * statement records the target's outcome (`applied`: the machine runs the expected version
 * and answers healthy; else `failed` with the operation's reason) and moves the stage's and
 * the action's counters, guarded by the target being `running` with this operation (the
 * operation its claim created owns it). Finishing one target is O(1): the stage row's
 * counters say whether it drained. After commit, the stage is rung when a wave of slots
 * has freed (see `refillWave`), or the next stage when it is due.
 */
export const recordTargetOutcome: OperationListener = async (ctx, tx, op, result, now) => {
  const status: OutcomeStatus = result.ok ? 'applied' : 'failed';
  const target = tx.$with('target').as(
    tx
      .update(scheduledActionTargets)
      .set({
        status,
        error: result.ok ? null : result.error,
        finishedAt: now,
        ...(result.ok ? { appliedAt: now } : {}),
      })
      .where(
        and(
          eq(scheduledActionTargets.operationId, op.id),
          eq(scheduledActionTargets.status, 'running'),
        ),
      )
      .returning({ stageId: scheduledActionTargets.stageId }),
  );
  const stage = tx.$with('stage').as(
    tx
      .update(scheduledActionStages)
      .set({ running: sql`${scheduledActionStages.running} - 1`, ...bumpStage(status) })
      .where(inArray(scheduledActionStages.id, tx.select({ id: target.stageId }).from(target)))
      .returning(),
  );
  // Rows lock in one order everywhere: target, then stage, then action.
  const [row] = await tx
    .with(target, stage)
    .update(scheduledActions)
    .set(bumpAction(status))
    .from(stage)
    .where(eq(scheduledActions.id, stage.actionId))
    .returning({
      ...stageColumnsOf(stage as unknown as Record<string, unknown>),
      actionStatus: scheduledActions.status,
      maxInFlight: scheduledActions.maxInFlight,
      actionOpen: sql<number>`(${scheduledActions.total} - ${scheduledActions.applied} - ${scheduledActions.skipped} - ${scheduledActions.failed} - ${scheduledActions.cancelled})::int`,
    });
  if (!row) return undefined;
  const {
    actionStatus,
    maxInFlight: _,
    actionOpen,
    ...after
  } = row as Stage & {
    actionStatus: string;
    maxInFlight: number;
    actionOpen: number;
  };
  // A cancelled action's last target in flight just ended: the cancel is complete.
  if (actionStatus === 'cancelling' && Number(actionOpen) === 0) {
    await endCancelling(tx, after.actionId, now);
    return undefined;
  }
  if (stageDrained(after)) {
    const settled = await settleStage(tx, after, now);
    if (!settled.nextDue) return undefined;
    const next = settled.nextDue;
    return () => ringStage(ctx, next, `after-${after.id}`, now);
  }
  const wake =
    actionStatus === 'running' &&
    after.status === 'running' &&
    after.pending > 0 &&
    after.running === after.wakeAtRunning;
  if (!wake) return undefined;
  const finished = after.applied + after.skipped + after.failed + after.cancelled;
  return () => ringStage(ctx, after, `refill-${finished}`, now);
};

/**
 * Ends a `cancelling` action `cancelled` (guarded: only from `cancelling`), audited as
 * `scheduled_action.cancelled` by the system: its cancel was audited when it was asked for.
 */
async function endCancelling(tx: Db, actionId: string, now: Date) {
  const [ended] = await tx
    .update(scheduledActions)
    .set({ status: 'cancelled', completedAt: now })
    .where(and(eq(scheduledActions.id, actionId), eq(scheduledActions.status, 'cancelling')))
    .returning({
      id: scheduledActions.id,
      applied: scheduledActions.applied,
      failed: scheduledActions.failed,
    });
  if (!ended) return;
  await recordAudit(
    tx,
    { actor: { type: 'system', id: null, label: 'scheduler' }, requestId: null },
    {
      action: 'scheduled_action.cancelled',
      subjectType: 'scheduled_action',
      subjectId: actionId,
      payload: {
        reason: 'the last target being applied when it was cancelled ended',
        applied: ended.applied,
        failed: ended.failed,
      },
    },
  );
}

/** Every column of a stage, read from a CTE that returned whole stage rows. */
function stageColumnsOf(cte: Record<string, unknown>) {
  return Object.fromEntries(
    Object.keys(getTableColumns(scheduledActionStages)).map((k) => [k, cte[k]]),
  ) as Record<keyof Stage, SQL>;
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
