import { z } from '@hono/zod-openapi';
import {
  ACTION_STATUSES,
  ACTION_TYPES,
  STAGE_STATUSES,
  TARGET_STATUSES,
} from '../../../src/scheduler/model.ts';
import type { ActionDetail, TargetRow, Upcoming } from '../../../src/scheduler/queries.ts';
import { Timestamp, Uuid } from '../schemas.ts';

const Counts = z
  .object({
    total: z.number().int(),
    pending: z.number().int().openapi({ description: 'Not started yet.' }),
    running: z.number().int().openapi({ description: 'Being applied now.' }),
    applied: z.number().int(),
    skipped: z.number().int(),
    failed: z.number().int(),
    cancelled: z.number().int(),
  })
  .openapi('ScheduledCounts');

export const StageJson = z
  .object({
    index: z.number().int(),
    scheduledAt: Timestamp,
    status: z.enum(STAGE_STATUSES),
    gateResult: z
      .string()
      .nullable()
      .openapi({ description: "The failure gate's decision when the stage finished." }),
    counts: Counts,
    startedAt: Timestamp.nullable(),
    completedAt: Timestamp.nullable(),
  })
  .openapi('ScheduledStage');

export const ActionJson = z
  .object({
    id: Uuid,
    actionType: z.enum(ACTION_TYPES),
    status: z.enum(ACTION_STATUSES).openapi({
      description:
        '`cancelling`: cancelled while targets it had claimed are still being applied (`counts.running`); nothing new starts, and it becomes `cancelled` when the last of them ends. `cancelled`, `completed` and `failed` are final.',
    }),
    runAt: Timestamp,
    targetImageTag: z.string().nullable(),
    overridePins: z.boolean(),
    reason: z.string(),
    createdBy: z.string(),
    createdAt: Timestamp,
    startedAt: Timestamp.nullable(),
    completedAt: Timestamp.nullable(),
    cancelledAt: Timestamp.nullable().openapi({
      description: 'When it was cancelled (set from `cancelling` on).',
    }),
    pausedAt: Timestamp.nullable().openapi({ description: 'Set while the action is paused.' }),
    completedWithFailures: z.boolean().openapi({
      description: 'The action completed, and some of its targets failed (see counts.failed).',
    }),
    maxInFlight: z.number().int().openapi({ description: 'Targets applied at once, at most.' }),
    includeStopped: z.boolean(),
    retryOf: Uuid.nullable().openapi({
      description: 'The action whose failed targets this one retries.',
    }),
    driftSeconds: z
      .number()
      .nullable()
      .openapi({ description: 'How late the first stage actually started, in seconds.' }),
    counts: Counts,
    rollout: z.object({
      stages: z.array(z.number()),
      intervalMinutes: z.number(),
      failureThresholdPercent: z.number().nullable(),
    }),
    stages: z.array(StageJson),
  })
  .openapi('ScheduledAction');

export const TargetJson = z
  .object({
    id: Uuid,
    actionId: Uuid,
    stageIndex: z.number().int(),
    instanceId: Uuid,
    instanceName: z.string(),
    userId: Uuid,
    userEmail: z.string(),
    sourceImageTag: z.string().nullable(),
    targetImageTag: z.string().nullable(),
    status: z.enum(TARGET_STATUSES),
    skipReason: z.string().nullable(),
    error: z.string().nullable(),
    attempts: z.number().int(),
    operationId: Uuid.nullable(),
    appliedAt: Timestamp.nullable(),
  })
  .openapi('ScheduledTarget');

export const UpcomingJson = z
  .object({
    actionId: Uuid,
    targetId: Uuid,
    actionType: z.enum(ACTION_TYPES),
    status: z.enum(TARGET_STATUSES),
    scheduledAt: Timestamp,
    sourceImageTag: z.string().nullable(),
    targetImageTag: z.string().nullable(),
    reason: z.string(),
    batchSize: z.number().int(),
  })
  .openapi('UpcomingScheduledAction');

const iso = (d: Date | null) => d?.toISOString() ?? null;
type Counted = {
  total: number;
  pending: number;
  running: number;
  applied: number;
  skipped: number;
  failed: number;
  cancelled: number;
};
const counts = (c: Counted): Counted => ({
  total: c.total,
  pending: c.pending,
  running: c.running,
  applied: c.applied,
  skipped: c.skipped,
  failed: c.failed,
  cancelled: c.cancelled,
});

export function actionJson(a: ActionDetail): z.infer<typeof ActionJson> {
  return {
    id: a.id,
    actionType: a.actionType,
    status: a.status,
    runAt: a.runAt.toISOString(),
    targetImageTag: a.targetImageTag,
    overridePins: a.overridePins,
    reason: a.reason,
    createdBy: a.createdBy,
    createdAt: a.createdAt.toISOString(),
    startedAt: iso(a.startedAt),
    completedAt: iso(a.completedAt),
    cancelledAt: iso(a.cancelledAt),
    pausedAt: iso(a.pausedAt),
    completedWithFailures: a.status === 'completed' && a.failed > 0,
    maxInFlight: a.maxInFlight,
    includeStopped: a.includeStopped,
    retryOf: typeof a.selection.retryOf === 'string' ? a.selection.retryOf : null,
    driftSeconds: a.startedAt
      ? Math.round((a.startedAt.getTime() - a.runAt.getTime()) / 100) / 10
      : null,
    counts: counts({
      ...a,
      pending: a.total - a.running - a.applied - a.skipped - a.failed - a.cancelled,
    }),
    rollout: {
      stages: a.stagePercents,
      intervalMinutes: a.stageIntervalSeconds / 60,
      failureThresholdPercent: a.failureThresholdPercent,
    },
    stages: a.stages.map((s) => ({
      index: s.index,
      scheduledAt: s.scheduledAt.toISOString(),
      status: s.status,
      gateResult: s.gateResult,
      counts: counts(s),
      startedAt: iso(s.startedAt),
      completedAt: iso(s.completedAt),
    })),
  };
}

export function targetJson(t: TargetRow): z.infer<typeof TargetJson> {
  return {
    id: t.id,
    actionId: t.actionId,
    stageIndex: t.stageIndex,
    instanceId: t.instanceId,
    instanceName: t.instanceName,
    userId: t.userId,
    userEmail: t.userEmail,
    sourceImageTag: t.sourceImageTag,
    targetImageTag: t.targetImageTag,
    status: t.status,
    skipReason: t.skipReason,
    error: t.error,
    attempts: t.attempts,
    operationId: t.operationId,
    appliedAt: iso(t.appliedAt),
  };
}

export const upcomingJson = (u: Upcoming): z.infer<typeof UpcomingJson> => ({
  ...u,
  scheduledAt: u.scheduledAt.toISOString(),
});
