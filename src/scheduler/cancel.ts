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
import type { ScheduledAction, Stage, Target } from './model.ts';
import { lockStage, ringAfter, settleStage, writeTargetOutcome } from './outcome.ts';
import { ringStages } from './schedule.ts';

/** Locks in one order everywhere (stages by index, then the action) so writers never deadlock. */
async function lockAction(
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

async function bumpCancelled(tx: Db, rows: { stageId: string }[], actionId: string) {
  const perStage = new Map<string, number>();
  for (const r of rows) perStage.set(r.stageId, (perStage.get(r.stageId) ?? 0) + 1);
  for (const [stageId, n] of perStage)
    await tx
      .update(scheduledActionStages)
      .set({ cancelled: sql`${scheduledActionStages.cancelled} + ${n}` })
      .where(eq(scheduledActionStages.id, stageId));
  if (rows.length)
    await tx
      .update(scheduledActions)
      .set({ cancelled: sql`${scheduledActions.cancelled} + ${rows.length}` })
      .where(eq(scheduledActions.id, actionId));
}

/**
 * Cancels a whole action: pending targets become `cancelled`, targets already being
 * applied finish and record their outcome, unfinished stages are cancelled and their
 * doorbells withdrawn. Cancelling a finished or cancelled action is a no-op answering its
 * current state. Audited once. With `instanceId` (cancelling from an instance's page), an
 * action without a target on that instance is 404.
 */
export async function cancelAction({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { actionId: string; instanceId?: string };
}): Promise<ScheduledAction> {
  const now = ctx.clock.now();
  if (input.instanceId) {
    const [target] = await ctx.db
      .select({ id: scheduledActionTargets.id })
      .from(scheduledActionTargets)
      .where(
        and(
          eq(scheduledActionTargets.actionId, input.actionId),
          eq(scheduledActionTargets.instanceId, input.instanceId),
        ),
      )
      .limit(1);
    if (!target) throw new NotFoundError('Scheduled action', input.actionId);
  }
  const result = await ctx.db.transaction(async (tx) => {
    const locked = await lockAction(tx, input.actionId);
    if (!locked) throw new NotFoundError('Scheduled action', input.actionId);
    const { action, stages } = locked;
    if (
      action.status === 'completed' ||
      action.status === 'failed' ||
      action.status === 'cancelled'
    )
      return { action, withdrawn: [] as Stage[] };
    const cancelled = await tx
      .update(scheduledActionTargets)
      .set({ status: 'cancelled', finishedAt: now })
      .where(
        and(
          eq(scheduledActionTargets.actionId, action.id),
          eq(scheduledActionTargets.status, 'pending'),
        ),
      )
      .returning({ stageId: scheduledActionTargets.stageId });
    await bumpCancelled(tx, cancelled, action.id);
    const open = stages.filter(
      (s) => s.status === 'pending' || s.status === 'running' || s.status === 'halted',
    );
    if (open.length)
      await tx
        .update(scheduledActionStages)
        .set({ status: 'cancelled', completedAt: now })
        .where(
          inArray(
            scheduledActionStages.id,
            open.map((s) => s.id),
          ),
        );
    const [updated] = await tx
      .update(scheduledActions)
      .set({ status: 'cancelled', cancelledAt: now })
      .where(eq(scheduledActions.id, action.id))
      .returning();
    await recordAudit(tx, ctx, {
      action: 'scheduled_action.cancel',
      subjectType: 'scheduled_action',
      subjectId: action.id,
      payload: { cancelledTargets: cancelled.length, previousStatus: action.status },
    });
    return { action: updated ?? action, withdrawn: open };
  });
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
 * the action ends up cancelled, the action is cancelled. Audited. With `instanceId`, a
 * target of another instance is 404.
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
    const stage = await lockStage(tx, found.stageId);
    const wrote = await writeTargetOutcome(tx, found, { status: 'cancelled' }, now, ['pending']);
    const [target] = await tx
      .select()
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.id, found.id));
    if (!target) throw new NotFoundError('Scheduled action target', found.id);
    if (!wrote) return { target, settled: null, stage };
    await recordAudit(tx, ctx, {
      action: 'scheduled_action.cancel_target',
      subjectType: 'scheduled_action',
      subjectId: target.actionId,
      payload: { targetId: target.id, instanceId: target.instanceId },
    });
    return { target, settled: stage ? await settleStage(tx, stage, now) : null, stage };
  });
  const { target } = outcome;
  if (outcome.settled && outcome.stage)
    await ringAfter(ctx, outcome.stage, outcome.settled, `cancel-${target.id}`, now)();
  if (target.status === 'cancelled') return target;
  throw new ConflictError(
    target.status === 'running'
      ? 'This target is already being applied; it will finish and record its outcome.'
      : `This target already finished (${target.status}).`,
    { targetId: target.id, targetStatus: target.status },
    'target-not-pending',
  );
}

/**
 * Resumes a halted action: its halted stages are scheduled again from now (keeping the
 * interval between them) and their `halted` targets become pending. 409 unless halted.
 */
export async function resumeAction({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { actionId: string };
}): Promise<ScheduledAction> {
  const now = ctx.clock.now();
  const { action, stages } = await ctx.db.transaction(async (tx) => {
    const locked = await lockAction(tx, input.actionId);
    if (!locked) throw new NotFoundError('Scheduled action', input.actionId);
    if (locked.action.status !== 'halted')
      throw new ConflictError(
        `Only a halted action can be resumed (this one is ${locked.action.status}).`,
        { status: locked.action.status },
        'not-halted',
      );
    const halted = locked.stages.filter((s) => s.status === 'halted');
    const resumed: Stage[] = [];
    for (const [k, stage] of halted.entries()) {
      const scheduledAt = new Date(now.getTime() + k * locked.action.stageIntervalSeconds * 1000);
      const back = await tx
        .update(scheduledActionTargets)
        .set({ status: 'pending', skipReason: null, finishedAt: null, nextAttemptAt: scheduledAt })
        .where(
          and(
            eq(scheduledActionTargets.stageId, stage.id),
            eq(scheduledActionTargets.status, 'skipped'),
            eq(scheduledActionTargets.skipReason, 'halted'),
          ),
        )
        .returning({ id: scheduledActionTargets.id });
      const [row] = await tx
        .update(scheduledActionStages)
        .set({
          status: 'pending',
          scheduledAt,
          gateResult: null,
          skipped: sql`${scheduledActionStages.skipped} - ${back.length}`,
        })
        .where(eq(scheduledActionStages.id, stage.id))
        .returning();
      await tx
        .update(scheduledActions)
        .set({ skipped: sql`${scheduledActions.skipped} - ${back.length}` })
        .where(eq(scheduledActions.id, locked.action.id));
      if (row) resumed.push(row);
    }
    const [updated] = await tx
      .update(scheduledActions)
      .set({ status: 'running' })
      .where(eq(scheduledActions.id, locked.action.id))
      .returning();
    await recordAudit(tx, ctx, {
      action: 'scheduled_action.resume',
      subjectType: 'scheduled_action',
      subjectId: locked.action.id,
      payload: { stages: resumed.length },
    });
    return { action: updated ?? locked.action, stages: resumed };
  });
  await ringStages(ctx, stages);
  return action;
}
