// Scheduling an action: the verb and its preview. Both go through `prepare` (selection,
// eligibility, stages, notices), so what an admin confirms in the preview is exactly what is
// scheduled; splitting them would split that promise.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  scheduledActionStages,
  scheduledActions,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx } from '../deps.ts';
import { availableImage } from '../fleet/catalog.ts';
import { ConflictError, UnprocessableError } from '../lib/errors.ts';
import { isUniqueViolation } from '../lib/pg-errors.ts';
import { DEFAULT_NOTICE_SETTINGS, type NoticeSettings } from '../notices/model.ts';
import { dueFor, noticesPlanned, planNotices } from '../notices/plan.ts';
import {
  type ActionType,
  DEFAULT_MAX_IN_FLIGHT,
  MIN_LEAD_MS,
  type ScheduledAction,
  type Stage,
  stageDoorbell,
} from './model.ts';
import { assignStages, planStages, type StagePlan } from './plan.ts';
import { classify, loadCandidates, type Selection } from './selection.ts';

export type ScheduleInput = {
  actionType: ActionType;
  selection: Selection;
  /** `now`, or an instant at least 60 s ahead. */
  runAt: Date | 'now';
  targetImageTag?: string | null;
  overridePins?: boolean;
  reason: string;
  rollout?: {
    stagePercents: number[];
    intervalSeconds: number;
    failureThresholdPercent?: number | null;
  };
  /** Leave out instances that already have a pending action instead of refusing with 409. */
  skipAlreadyScheduled?: boolean;
  /** Targets applied at once (1–1,000; default 50). */
  maxInFlight?: number;
  /** A version change also moves stopped instances (they stay stopped). */
  includeStopped?: boolean;
  /** The action whose failed targets this one retries (recorded with the selection). */
  retryOf?: string;
  /** How the users are told (default: notify on every channel, 24 h ahead). */
  notices?: NoticeSettings;
};

export type Preview = {
  eligible: number;
  exclusions: {
    destroyed: string[];
    stopped: string[];
    pinned: string[];
    alreadyOnTarget: string[];
    alreadyScheduled: string[];
    notFound: string[];
  };
  stages: StagePlan[];
  runAt: Date;
  /** Eligible instances pinned to another version whose pin moves to the target (override). */
  pinsOverridden: number;
  /** Eligible instances busy right now: they are retried at claim time for up to 10 minutes. */
  busy: string[];
  /** How users would be told: the settings, and when the first notices go out (null: none). */
  notices: NoticeSettings & { firstDueAt: Date | null };
  /** One eligible user and up to 3 of their eligible instances, for a sample message. */
  sample: { userId: string; instanceIds: string[] } | null;
};

const INSERT_BATCH = 1000;

async function prepare(ctx: Ctx, input: ScheduleInput, db: Db) {
  const now = ctx.clock.now();
  const runAt = input.runAt === 'now' ? now : input.runAt;
  if (input.runAt !== 'now' && runAt.getTime() < now.getTime() + MIN_LEAD_MS)
    throw new UnprocessableError(
      'runAt must be at least 60 seconds ahead, or "now".',
      { runAt: runAt.toISOString() },
      'run-at-too-soon',
    );
  let targetImageTag: string | null = null;
  if (input.actionType === 'version_change') {
    if (!input.targetImageTag)
      throw new UnprocessableError('A version change needs targetImageTag.', {}, 'target-required');
    targetImageTag = (await availableImage(db, input.targetImageTag)).imageTag;
  }
  const rollout = input.rollout ?? {
    stagePercents: [100],
    intervalSeconds: 0,
    failureThresholdPercent: null,
  };
  const { candidates, notFound } = await loadCandidates(db, input.selection);
  const { eligible, exclusions, busy } = classify(candidates, {
    actionType: input.actionType,
    targetImageTag,
    overridePins: input.overridePins ?? false,
    includeStopped: input.includeStopped ?? false,
  });
  return { now, runAt, targetImageTag, rollout, eligible, exclusions, busy, notFound };
}

/**
 * What scheduling this would do, without writing: how many instances are eligible, which
 * are excluded and why, and each stage's size and time. Same validation as scheduling;
 * with `strict`, also the refusals scheduling would answer (reason missing, 409 already
 * scheduled, 422 nothing eligible), so a confirmation step shows only what would succeed.
 */
export async function previewSchedule(
  ctx: Ctx,
  input: ScheduleInput,
  options: { strict?: boolean } = {},
): Promise<Preview> {
  const p = await prepare(ctx, input, ctx.db);
  if (options.strict) refuseUnschedulable(input, p);
  return {
    eligible: p.eligible.length,
    exclusions: {
      destroyed: p.exclusions.destroyed,
      stopped: p.exclusions.stopped,
      pinned: p.exclusions.pinned,
      alreadyOnTarget: p.exclusions.already_on_target,
      alreadyScheduled: p.exclusions.already_scheduled,
      notFound: p.notFound,
    },
    stages: planStages(
      p.eligible.length,
      p.rollout.stagePercents,
      p.runAt,
      p.rollout.intervalSeconds,
    ),
    runAt: p.runAt,
    pinsOverridden: p.targetImageTag
      ? p.eligible.filter((c) => c.pinnedImageTag && c.pinnedImageTag !== p.targetImageTag).length
      : 0,
    busy: p.busy,
    notices: noticePreview(input.notices ?? DEFAULT_NOTICE_SETTINGS, p.runAt, p.now),
    sample: sampleOf(p.eligible),
  };
}

function sampleOf(eligible: { userId: string; instanceId: string }[]) {
  const first = eligible[0];
  if (!first) return null;
  const instanceIds = eligible
    .filter((c) => c.userId === first.userId)
    .slice(0, 3)
    .map((c) => c.instanceId);
  return { userId: first.userId, instanceIds };
}

function noticePreview(settings: NoticeSettings, runAt: Date, now: Date) {
  const on = settings.notify && settings.channels.length > 0;
  return { ...settings, firstDueAt: on ? dueFor(runAt, settings.leadMinutes, now) : null };
}

/** The refusals shared by scheduling and a strict preview. */
function refuseUnschedulable(input: ScheduleInput, p: Awaited<ReturnType<typeof prepare>>) {
  if (!input.reason.trim())
    throw new UnprocessableError(
      'Give a reason: it is shown to admins and in the audit log.',
      {},
      'reason-required',
    );
  if (p.exclusions.already_scheduled.length && !input.skipAlreadyScheduled)
    throw new ConflictError(
      `${p.exclusions.already_scheduled.length} instance(s) already have a pending scheduled action.`,
      { conflictingInstanceIds: p.exclusions.already_scheduled },
      'already-scheduled',
    );
  if (p.eligible.length === 0)
    throw new UnprocessableError(
      'No instance in the selection is eligible.',
      { exclusions: p.exclusions, notFound: p.notFound },
      'nothing-eligible',
    );
}

/**
 * Schedules a restart or version change of many instances: one action, its stages and one
 * target per eligible instance, inserted in batches in one transaction with the audit
 * entry; each stage's doorbell is rung after commit, for its time.
 *
 * 422: unknown or disabled image, runAt too soon, nothing eligible, selection too large.
 * 409: an instance already has a pending or running target in another action (the partial
 * unique index decides when two requests race), naming the instances — unless
 * `skipAlreadyScheduled`, which leaves them out.
 */
export async function scheduleAction({ ctx, input }: { ctx: Ctx; input: ScheduleInput }) {
  const reason = input.reason.trim();
  const p = await prepare(ctx, input, ctx.db);
  refuseUnschedulable(input, p);
  const actionId = crypto.randomUUID();
  const ordered = await assignStages(actionId, p.eligible);
  const plans = planStages(
    ordered.length,
    p.rollout.stagePercents,
    p.runAt,
    p.rollout.intervalSeconds,
  );
  let created: { action: ScheduledAction; stages: Stage[]; noticeTimes: Date[] };
  try {
    created = await ctx.db.transaction(async (tx) => {
      const [action] = await tx
        .insert(scheduledActions)
        .values({
          id: actionId,
          actionType: input.actionType,
          targetImageTag: p.targetImageTag,
          overridePins: input.overridePins ?? false,
          reason,
          runAt: p.runAt,
          stagePercents: p.rollout.stagePercents,
          stageIntervalSeconds: p.rollout.intervalSeconds,
          failureThresholdPercent: p.rollout.failureThresholdPercent ?? null,
          maxInFlight: input.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
          includeStopped: input.includeStopped ?? false,
          selection: {
            ...('ids' in input.selection
              ? { ids: input.selection.ids.length }
              : { filter: input.selection.filter }),
            ...(input.retryOf ? { retryOf: input.retryOf } : {}),
          },
          createdBy: ctx.actor.label,
          createdByAdminId: ctx.actor.type === 'admin' ? ctx.actor.id : null,
          createdAt: p.now,
          total: ordered.length,
        })
        .returning();
      if (!action) throw new Error('action insert returned no row');
      const stages = await tx
        .insert(scheduledActionStages)
        .values(
          plans.map((s) => ({
            actionId,
            index: s.index,
            scheduledAt: s.scheduledAt,
            total: s.size,
            pending: s.size,
          })),
        )
        .returning();
      stages.sort((a, b) => a.index - b.index);
      let offset = 0;
      const rows = [];
      for (const [k, plan] of plans.entries()) {
        const stage = stages[k];
        if (!stage) throw new Error('stage missing');
        for (const c of ordered.slice(offset, offset + plan.size))
          rows.push({
            id: crypto.randomUUID(),
            actionId,
            stageId: stage.id,
            instanceId: c.instanceId,
            userId: c.userId,
            sourceImageTag: c.imageTag,
            targetImageTag: input.actionType === 'version_change' ? p.targetImageTag : c.imageTag,
            nextAttemptAt: stage.scheduledAt,
            createdAt: p.now,
          });
        offset += plan.size;
      }
      // Inserted in instance-id order: two requests racing for the same instances then wait on
      // the first shared one and fail with a unique violation, never a deadlock.
      rows.sort((x, y) => (x.instanceId < y.instanceId ? -1 : x.instanceId > y.instanceId ? 1 : 0));
      for (let i = 0; i < rows.length; i += INSERT_BATCH)
        await tx.insert(scheduledActionTargets).values(rows.slice(i, i + INSERT_BATCH));
      const noticeTimes = await planNotices(tx, {
        actionId,
        settings: input.notices ?? DEFAULT_NOTICE_SETTINGS,
        targets: rows.map((r) => ({
          targetId: r.id,
          userId: r.userId,
          instanceId: r.instanceId,
          actionAt: r.nextAttemptAt,
        })),
        now: p.now,
      });
      await recordAudit(tx, ctx, {
        action: 'scheduled_action.create',
        subjectType: 'scheduled_action',
        subjectId: actionId,
        payload: {
          actionType: input.actionType,
          targetImageTag: p.targetImageTag,
          overridePins: input.overridePins ?? false,
          runAt: p.runAt.toISOString(),
          total: ordered.length,
          stages: plans.map((s) => s.size),
          maxInFlight: input.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
          reason,
          notices: input.notices ?? DEFAULT_NOTICE_SETTINGS,
        },
      });
      return { action, stages, noticeTimes };
    });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    // Another request took some of these instances first: name every one of them.
    const ids = ordered.map((c) => c.instanceId);
    const taken = await ctx.db
      .select({ instanceId: scheduledActionTargets.instanceId })
      .from(scheduledActionTargets)
      .where(
        and(
          inArray(scheduledActionTargets.instanceId, ids),
          sql`${scheduledActionTargets.status} in ('pending', 'running')`,
        ),
      );
    throw new ConflictError(
      `${taken.length} instance(s) were scheduled by another action at the same time.`,
      { conflictingInstanceIds: taken.map((t) => t.instanceId) },
      'already-scheduled',
    );
  }
  await ringStages(ctx, created.stages);
  await noticesPlanned(ctx, actionId, { times: created.noticeTimes, rows: ordered.length });
  return { ...created, exclusions: p.exclusions, notFound: p.notFound };
}

/** Rings each stage's doorbell for its time and remembers the message (to cancel it). */
export async function ringStages(
  ctx: Pick<Ctx, 'db' | 'doorbells' | 'log'>,
  stages: Stage[],
): Promise<void> {
  try {
    const ids = await ctx.doorbells.ringMany(
      stages.map((s) => stageDoorbell(s, `due-${s.scheduledAt.getTime()}`)),
    );
    for (const [i, stage] of stages.entries()) {
      if (ids[i])
        await ctx.db
          .update(scheduledActionStages)
          .set({ doorbellMessageId: ids[i] })
          .where(eq(scheduledActionStages.id, stage.id));
    }
  } catch (err) {
    ctx.log.warn('scheduler.ring_failed', {
      stages: stages.length,
      error: err,
      hint: 'the sweep rings due stages',
    });
  }
}
