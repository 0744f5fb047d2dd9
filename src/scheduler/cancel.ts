import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  scheduledActionStages,
  scheduledActions,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx } from '../deps.ts';
import { ConflictError, NotFoundError } from '../lib/errors.ts';
import { cancelNotices } from '../notices/cancel.ts';
import { ringNoticeTimes } from '../notices/plan.ts';
import type { ScheduledAction, Stage, Target } from './model.ts';
import { bumpAction, bumpStage, ringStage, settleStage, stageDrained } from './outcome.ts';

/**
 * Locks an action for a change of its course: its stages first (by index), then the action,
 * the order every writer uses, so writers never deadlock. A stage's claim holds its stage
 * row, so once this returns no claim of the action is in progress: what was claimed is
 * committed with its operation, and what was not cannot be claimed until this commits.
 */
export async function lockAction(
  tx: Db,
  actionId: string,
): Promise<{ action: ScheduledAction; stages: Stage[] } | null> {
  const stages = await tx
    .select()
    .from(scheduledActionStages)
    .where(eq(scheduledActionStages.actionId, actionId))
    .orderBy(asc(scheduledActionStages.index))
    .for('update');
  const [action] = await tx
    .select()
    .from(scheduledActions)
    .where(eq(scheduledActions.id, actionId))
    .for('update');
  return action ? { action, stages } : null;
}

/** An action with no target on this instance is 404 (cancelling from an instance's page). */
async function requireTargetOn(ctx: Ctx, actionId: string, instanceId: string) {
  const [target] = await ctx.db
    .select({ id: scheduledActionTargets.id })
    .from(scheduledActionTargets)
    .where(
      and(
        eq(scheduledActionTargets.actionId, actionId),
        eq(scheduledActionTargets.instanceId, instanceId),
      ),
    )
    .limit(1);
  if (!target) throw new NotFoundError('Scheduled action', actionId);
}

/**
 * Cancels a whole action: every pending target becomes `cancelled` (none can be claimed
 * after this answers: claims re-check the action under the stage lock this takes), targets
 * already being applied (their operation started with their claim) finish and record their
 * outcome, unfinished stages are cancelled and their doorbells withdrawn. The action is
 * `cancelling` while any target is still being applied, and `cancelled` (with
 * `completedAt`) once none is: at once when nothing was running, else when the last one
 * records its outcome. Cancelling a finished, cancelling or cancelled action is a no-op
 * answering its current state. Audited once (`scheduled_action.cancel`, with `status` and
 * `stillRunning`; the end is audited as `scheduled_action.cancelled`). With
 * `instanceId` (cancelling from an instance's page), an action without a target on that
 * instance is 404.
 */
export async function cancelAction({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { actionId: string; instanceId?: string };
}): Promise<ScheduledAction> {
  const now = ctx.clock.now();
  if (input.instanceId) await requireTargetOn(ctx, input.actionId, input.instanceId);
  const result = await ctx.db.transaction(async (tx) => {
    const locked = await lockAction(tx, input.actionId);
    if (!locked) throw new NotFoundError('Scheduled action', input.actionId);
    const { action, stages } = locked;
    if (
      action.status === 'completed' ||
      action.status === 'failed' ||
      action.status === 'cancelling' ||
      action.status === 'cancelled'
    )
      return { action, withdrawn: [] as Stage[], followUps: false };
    const cancelled = await tx
      .update(scheduledActionTargets)
      .set({ status: 'cancelled', finishedAt: now })
      .where(
        and(
          eq(scheduledActionTargets.actionId, action.id),
          eq(scheduledActionTargets.status, 'pending'),
        ),
      )
      .returning({ id: scheduledActionTargets.id });
    const followUps = await cancelNotices(tx, {
      actionId: action.id,
      scope: { all: true },
      cancelledTargetIds: cancelled.map((t) => t.id),
      now,
    });
    const open = openStages(stages);
    // A stage's pending counter is exactly its pending targets, all cancelled just now.
    await tx
      .update(scheduledActionStages)
      .set({
        cancelled: sql`${scheduledActionStages.cancelled} + ${scheduledActionStages.pending}`,
        pending: 0,
      })
      .where(eq(scheduledActionStages.actionId, action.id));
    await cancelStages(tx, open, now);
    // Targets claimed before this lock are being applied (their operations own them): the
    // action reads `cancelling` until the last of them records its outcome
    // (`recordTargetOutcome` then ends it `cancelled`), so no reader sees a terminal action
    // with work still in flight.
    const stillRunning = stages.reduce((n, s) => n + s.running, 0);
    const [updated] = await tx
      .update(scheduledActions)
      .set({
        status: stillRunning > 0 ? 'cancelling' : 'cancelled',
        cancelledAt: now,
        ...(stillRunning > 0 ? {} : { completedAt: now }),
        pausedAt: null,
        ...bumpAction('cancelled', cancelled.length),
      })
      .where(eq(scheduledActions.id, action.id))
      .returning();
    await recordAudit(tx, ctx, {
      action: 'scheduled_action.cancel',
      subjectType: 'scheduled_action',
      subjectId: action.id,
      payload: {
        cancelledTargets: cancelled.length,
        stillRunning,
        previousStatus: action.status,
        status: updated?.status ?? null,
      },
    });
    return { action: updated ?? action, withdrawn: open, followUps };
  });
  if (result.followUps) await ringNoticeTimes(ctx, input.actionId, [now]);
  for (const stage of result.withdrawn) {
    if (!stage.doorbellMessageId) continue;
    // The stage handler would ignore them anyway (the action is cancelled); this keeps QStash tidy.
    await ctx.doorbells
      .cancel(stage.doorbellMessageId)
      .catch((err) =>
        ctx.log.warn('scheduler.cancel_doorbell_failed', { stageId: stage.id, error: err }),
      );
  }
  return result.action;
}

/**
 * Cancels one pending target (one instance of a batch). Repeating is a no-op answering the
 * current state; a target already being applied or finished is 409. When every target of
 * the action ends up cancelled, the action is cancelled; when the target's stage is running
 * and now has nothing left, it settles (a pending stage settles when its turn comes, so
 * stages still finish in order). Audited. With `instanceId`, a target of another instance
 * is 404.
 */
export async function cancelTarget({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { targetId: string; instanceId?: string };
}): Promise<Target> {
  const now = ctx.clock.now();
  const [found] = await ctx.db
    .select()
    .from(scheduledActionTargets)
    .where(eq(scheduledActionTargets.id, input.targetId));
  if (!found || (input.instanceId && found.instanceId !== input.instanceId))
    throw new NotFoundError('Scheduled action target', input.targetId);
  const outcome = await ctx.db.transaction(async (tx) => {
    // Every stage of the action (by index), then the action, then the target: the order
    // cancel, pause and resume use, so a finish that halts later stages cannot deadlock it.
    const locked = await lockAction(tx, found.actionId);
    const [target] = await tx
      .update(scheduledActionTargets)
      .set({ status: 'cancelled', finishedAt: now })
      .where(
        and(eq(scheduledActionTargets.id, found.id), eq(scheduledActionTargets.status, 'pending')),
      )
      .returning();
    if (!target || !locked) {
      const [current] = await tx
        .select()
        .from(scheduledActionTargets)
        .where(eq(scheduledActionTargets.id, found.id));
      return { target: current ?? found, next: null, followUps: false };
    }
    const followUps = await cancelNotices(tx, {
      actionId: target.actionId,
      scope: { targetId: target.id },
      cancelledTargetIds: [target.id],
      now,
    });
    const [after] = await tx
      .update(scheduledActionStages)
      .set({ pending: sql`${scheduledActionStages.pending} - 1`, ...bumpStage('cancelled') })
      .where(eq(scheduledActionStages.id, target.stageId))
      .returning();
    const [action] = await tx
      .update(scheduledActions)
      .set(bumpAction('cancelled'))
      .where(eq(scheduledActions.id, target.actionId))
      .returning();
    await recordAudit(tx, ctx, {
      action: 'scheduled_action.cancel_target',
      subjectType: 'scheduled_action',
      subjectId: target.actionId,
      payload: { targetId: target.id, instanceId: target.instanceId },
    });
    if (action && action.cancelled === action.total) {
      await endCancelled(tx, action.id, locked.stages, now);
      return { target, next: null, followUps };
    }
    const settled = after && stageDrained(after) ? await settleStage(tx, after, now) : null;
    return { target, next: settled?.nextDue ?? null, followUps };
  });
  const { target } = outcome;
  if (outcome.followUps) await ringNoticeTimes(ctx, target.actionId, [now]);
  if (outcome.next) await ringStage(ctx, outcome.next, `after-${target.stageId}`, now);
  if (target.status === 'cancelled') return target;
  throw new ConflictError(
    target.status === 'running'
      ? 'This target is already being applied; it will finish and record its outcome.'
      : `This target already finished (${target.status}).`,
    { targetId: target.id, targetStatus: target.status },
    'target-not-pending',
  );
}

/** Stages that have not ended (a halted one still can be resumed). */
const openStages = (stages: Stage[]) =>
  stages.filter((s) => s.status === 'pending' || s.status === 'running' || s.status === 'halted');

/** Marks stages cancelled (their running targets still finish and record their outcome). */
async function cancelStages(tx: Db, stages: Stage[], now: Date) {
  if (!stages.length) return;
  await tx
    .update(scheduledActionStages)
    .set({ status: 'cancelled', completedAt: now })
    .where(
      inArray(
        scheduledActionStages.id,
        stages.map((s) => s.id),
      ),
    );
}

/** Every target was cancelled one by one: the action and its open stages end `cancelled`. */
async function endCancelled(tx: Db, actionId: string, stages: Stage[], now: Date) {
  await cancelStages(tx, openStages(stages), now);
  await tx
    .update(scheduledActions)
    .set({ status: 'cancelled', cancelledAt: now, completedAt: now, pausedAt: null })
    .where(eq(scheduledActions.id, actionId));
}
