import { and, eq, sql } from 'drizzle-orm';
import {
  scheduledActionStages,
  scheduledActions,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx } from '../deps.ts';
import { ConflictError, NotFoundError } from '../lib/errors.ts';
import { isUniqueViolation } from '../lib/pg-errors.ts';
import { replanNotices, ringNoticeTimes } from '../notices/plan.ts';
import { lockAction } from './cancel.ts';
import type { ScheduledAction, Stage } from './model.ts';
import { type KeptLead, keepNoticeLead } from './notice-lead.ts';
import { finishAction, ringStage } from './outcome.ts';
import { ringStages } from './schedule.ts';

/**
 * Pauses a scheduled or running action on demand: targets already being applied finish and
 * record their outcome, nothing new starts (claims re-check the action under the stage
 * lock, which this takes first), and stage doorbells that arrive meanwhile do nothing.
 * 409 `not-pausable` for an action that is halted, paused or finished. Audited.
 */
export async function pauseAction({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { actionId: string };
}): Promise<ScheduledAction> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const locked = await lockAction(tx, input.actionId);
    if (!locked) throw new NotFoundError('Scheduled action', input.actionId);
    const { action } = locked;
    if (action.status !== 'scheduled' && action.status !== 'running')
      throw new ConflictError(
        `Only a scheduled or running action can be paused (this one is ${action.status}).`,
        { status: action.status },
        'not-pausable',
      );
    const [updated] = await tx
      .update(scheduledActions)
      .set({ status: 'paused', pausedAt: now })
      .where(eq(scheduledActions.id, action.id))
      .returning();
    await recordAudit(tx, ctx, {
      action: 'scheduled_action.pause',
      subjectType: 'scheduled_action',
      subjectId: action.id,
      payload: {
        previousStatus: action.status,
        stillRunning: locked.stages.reduce((n, s) => n + s.running, 0),
      },
    });
    return updated ?? action;
  });
}

/**
 * Resumes an action:
 * - paused: it runs again from where it stopped (running if it had started, else
 *   scheduled); its stage that was running, or the next one if it is due, is rung now;
 * - halted: its halted stages are scheduled again from now (keeping the interval between
 *   them) and their `halted` targets become pending, but for instances another action has
 *   taken meanwhile (they stay skipped, `already_scheduled`); a halted action with nothing
 *   held back ends (completed or failed, from its counters).
 * Either way, notices held meanwhile keep their full lead: a stage that would start sooner
 * than `leadMinutes` from now while its targets' notices are unsent moves later, to now +
 * lead (later stages keep their spacing), and the notices go out now saying the new time
 * ({@link keepNoticeLead}; the audit row's `noticeLead` says what moved).
 * 409 `not-resumable` for any other status. Audited.
 */
export async function resumeAction({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { actionId: string };
}): Promise<ScheduledAction> {
  const now = ctx.clock.now();
  const {
    action,
    ring,
    moved,
    waiting,
    pausedAt,
    noticeTimes = [],
  } = await retryOnUniqueViolation(() =>
    ctx.db.transaction(async (tx) => {
      const locked = await lockAction(tx, input.actionId);
      if (!locked) throw new NotFoundError('Scheduled action', input.actionId);
      const { action: current, stages } = locked;
      if (current.status === 'paused') {
        // Notices held while paused must not be outrun: a stage due sooner than their lead
        // moves later (the notices then go out now, saying the new time).
        const kept = await keepNoticeLead(tx, {
          actionId: current.id,
          stages: stages.filter((s) => s.status === 'running' || s.status === 'pending'),
          now,
        });
        const movedById = new Map(kept.moved.map((s) => [s.id, s]));
        const firstMoved = movedById.get(stages[0]?.id ?? '');
        const [updated] = await tx
          .update(scheduledActions)
          .set({
            status: current.startedAt ? 'running' : 'scheduled',
            pausedAt: null,
            // Not started yet and its first stage moved: the run time is the new one.
            ...(firstMoved && !current.startedAt ? { runAt: firstMoved.scheduledAt } : {}),
          })
          .where(eq(scheduledActions.id, current.id))
          .returning();
        await recordAudit(tx, ctx, {
          action: 'scheduled_action.resume',
          subjectType: 'scheduled_action',
          subjectId: current.id,
          payload: {
            from: 'paused',
            pausedSeconds: secondsSince(current.pausedAt, now),
            ...noticeLeadAudit(kept),
          },
        });
        const live = stages.find((s) => s.status === 'running' || s.status === 'pending');
        // Held notices are due again: at once for the stages that moved (their new time
        // minus the lead is now), else at their own time minus the lead.
        const noticeTimes = await replanNotices(tx, {
          actionId: current.id,
          targets: kept.replanned,
          now,
        });
        return {
          action: updated ?? current,
          ring: live ? [movedById.get(live.id) ?? live] : [],
          moved: kept.moved,
          waiting: kept.waiting,
          pausedAt: current.pausedAt ?? now,
          noticeTimes,
        };
      }
      if (current.status !== 'halted')
        throw new ConflictError(
          `Only a paused or halted action can be resumed (this one is ${current.status}).`,
          { status: current.status },
          'not-resumable',
        );
      const halted = stages.filter((s) => s.status === 'halted');
      if (halted.length === 0) {
        // Nothing was held back (a gate over its threshold in the last stage): it just ends.
        await finishAction(tx, current.id, now);
        const [ended] = await tx
          .select()
          .from(scheduledActions)
          .where(eq(scheduledActions.id, current.id));
        return { action: ended ?? current, ring: [], moved: [], waiting: [], pausedAt: null };
      }
      const resumed: Stage[] = [];
      const replanned: { targetId: string; actionAt: Date }[] = [];
      let back = 0;
      for (const [k, stage] of halted.entries()) {
        const scheduledAt = new Date(now.getTime() + k * current.stageIntervalSeconds * 1000);
        const heldBack = and(
          eq(scheduledActionTargets.stageId, stage.id),
          eq(scheduledActionTargets.status, 'skipped'),
          eq(scheduledActionTargets.skipReason, 'halted'),
        );
        // An instance another action took meanwhile stays out (one active target per
        // instance): its target keeps its skip, now saying why.
        const taken = sql`exists (select 1 from ${scheduledActionTargets} as other where other.instance_id = ${scheduledActionTargets.instanceId} and other.status in ('pending', 'running'))`;
        await tx
          .update(scheduledActionTargets)
          .set({ skipReason: 'already_scheduled' })
          .where(and(heldBack, taken));
        const targets = await tx
          .update(scheduledActionTargets)
          .set({
            status: 'pending',
            skipReason: null,
            finishedAt: null,
            nextAttemptAt: scheduledAt,
          })
          .where(heldBack)
          .returning({ id: scheduledActionTargets.id });
        for (const t of targets) replanned.push({ targetId: t.id, actionAt: scheduledAt });
        const [row] = await tx
          .update(scheduledActionStages)
          .set({
            status: 'pending',
            scheduledAt,
            gateResult: null,
            skipped: sql`${scheduledActionStages.skipped} - ${targets.length}`,
            pending: sql`${scheduledActionStages.pending} + ${targets.length}`,
          })
          .where(eq(scheduledActionStages.id, stage.id))
          .returning();
        back += targets.length;
        if (row) resumed.push(row);
      }
      // Their unsent notices were held while halted: a stage rescheduled sooner than their
      // lead moves later, so they still go out with it.
      const kept = await keepNoticeLead(tx, { actionId: current.id, stages: resumed, now });
      const movedById = new Map(kept.moved.map((s) => [s.id, s]));
      const times = new Map(replanned.map((r) => [r.targetId, r.actionAt]));
      for (const r of kept.replanned) times.set(r.targetId, r.actionAt);
      const [updated] = await tx
        .update(scheduledActions)
        .set({ status: 'running', skipped: sql`${scheduledActions.skipped} - ${back}` })
        .where(eq(scheduledActions.id, current.id))
        .returning();
      await recordAudit(tx, ctx, {
        action: 'scheduled_action.resume',
        subjectType: 'scheduled_action',
        subjectId: current.id,
        payload: {
          from: 'halted',
          stages: resumed.length,
          targets: back,
          ...noticeLeadAudit(kept),
        },
      });
      // They now follow the new stage times.
      const noticeTimes = await replanNotices(tx, {
        actionId: current.id,
        targets: [...times].map(([targetId, actionAt]) => ({ targetId, actionAt })),
        now,
      });
      return {
        action: updated ?? current,
        ring: resumed.map((s) => movedById.get(s.id) ?? s),
        moved: [],
        waiting: [],
        pausedAt: null,
        noticeTimes,
      };
    }),
  );
  // The notices first: a stage that moved for them is due only after their lead anyway.
  await ringNoticeTimes(ctx, action.id, noticeTimes);
  if (pausedAt) {
    // Deduplicated on the pause it ends: a double click rings once.
    for (const stage of ring)
      if (stage.scheduledAt <= now)
        await ringStage(ctx, stage, `resume-${pausedAt.getTime()}`, now);
    // Stages moved to keep their notices' lead ring at their new time (their earlier
    // doorbells, arriving early, only ring again for it).
    if (moved.length) await ringStages(ctx, moved);
    for (const w of waiting) await ringStage(ctx, w.stage, `lead-${w.at.getTime()}`, w.at);
  } else await ringStages(ctx, ring);
  return action;
}

/**
 * Runs `work` again (up to 3 times) when the one-active-target-per-instance index refuses
 * it: another action scheduled one of the instances between our check and our write; the
 * next run sees it and leaves it out.
 */
async function retryOnUniqueViolation<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= 3 || !isUniqueViolation(err)) throw err;
    }
  }
}

/** What a resume did to keep its notices' lead, for the audit row (nothing when nothing). */
function noticeLeadAudit(kept: KeptLead) {
  if (!kept.moved.length && !kept.waiting.length) return {};
  return {
    noticeLead: {
      leadMinutes: kept.leadMinutes,
      delayedStages: kept.moved.map((s) => ({ index: s.index, scheduledAt: s.scheduledAt })),
      waitingStages: kept.waiting.map((w) => ({ index: w.stage.index, until: w.at })),
    },
  };
}

function secondsSince(at: Date | null, now: Date): number | null {
  return at ? Math.round((now.getTime() - at.getTime()) / 1000) : null;
}
