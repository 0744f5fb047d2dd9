import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { admins } from './auth.ts';
import { claimColumns, tstz } from './columns.ts';
import { imageCatalog, instanceOperations, instances } from './fleet.ts';
import { users } from './users.ts';

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

export const ACTION_TYPES = ['restart', 'version_change'] as const;
export const ACTION_STATUSES = [
  'scheduled',
  'running',
  'paused',
  'completed',
  'halted',
  // Cancelled while targets it had claimed are still being applied: it ends `cancelled`
  // when the last of them records its outcome.
  'cancelling',
  'cancelled',
  'failed',
] as const;
export const STAGE_STATUSES = ['pending', 'running', 'completed', 'halted', 'cancelled'] as const;
export const TARGET_STATUSES = [
  'pending',
  'running',
  'applied',
  'skipped',
  'failed',
  'cancelled',
] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];
export type StageStatus = (typeof STAGE_STATUSES)[number];
export type TargetStatus = (typeof TARGET_STATUSES)[number];

/**
 * Outcome counters kept on actions and stages, written by the same statement that moves a
 * target (so they always equal the targets' statuses).
 */
const counters = () => ({
  total: integer().notNull().default(0),
  applied: integer().notNull().default(0),
  skipped: integer().notNull().default(0),
  failed: integer().notNull().default(0),
  cancelled: integer().notNull().default(0),
});

/**
 * Targets of a stage still to do (`pending`) and being applied (`running`), and the
 * `running` count at which finishing operations ring the stage to claim more
 * (`wake_at_running`, set by each claim): a refill in waves, not one doorbell per finish.
 */
const openCounters = () => ({
  pending: integer().notNull().default(0),
  running: integer().notNull().default(0),
  wakeAtRunning: integer().notNull().default(0),
});

/** A restart or version rollout of many instances at a chosen time, in stages. */
export const scheduledActions = pgTable(
  'scheduled_actions',
  {
    id: uuid().primaryKey().defaultRandom(),
    actionType: text({ enum: ACTION_TYPES }).notNull(),
    targetImageTag: text().references(() => imageCatalog.imageTag),
    overridePins: boolean().notNull().default(false),
    reason: text().notNull(),
    status: text({ enum: ACTION_STATUSES }).notNull().default('scheduled'),
    /** When the first stage is due. */
    runAt: tstz().notNull(),
    /** Cumulative stage sizes in percent, e.g. [1, 10, 100]. */
    stagePercents: jsonb().$type<number[]>().notNull(),
    stageIntervalSeconds: integer().notNull().default(0),
    /** Halt when more than this % of a stage's finished (applied + failed) targets failed; null: never. */
    failureThresholdPercent: integer(),
    /** At most this many targets of the action are being applied at once (1–1,000). */
    maxInFlight: integer().notNull().default(50),
    /** Version changes also move stopped instances (they stay stopped, on the new version). */
    includeStopped: boolean().notNull().default(false),
    /** When an admin paused it (null: not paused). Paused: started targets finish, nothing new starts. */
    pausedAt: tstz(),
    /** How the instances were chosen (ids or filter), for display. */
    selection: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    createdBy: text().notNull(),
    createdByAdminId: uuid().references(() => admins.id, { onDelete: 'set null' }),
    createdAt: tstz().notNull().defaultNow(),
    startedAt: tstz(),
    completedAt: tstz(),
    cancelledAt: tstz(),
    ...counters(),
  },
  (t) => [
    index('scheduled_actions_run_at_idx').on(t.runAt.desc(), t.id.desc()),
    index('scheduled_actions_status_run_at_idx').on(t.status, t.runAt.desc(), t.id.desc()),
    check('scheduled_actions_type_check', sql`${t.actionType} in (${inList(ACTION_TYPES)})`),
    check('scheduled_actions_status_check', sql`${t.status} in (${inList(ACTION_STATUSES)})`),
    check('scheduled_actions_max_in_flight_check', sql`${t.maxInFlight} between 1 and 1000`),
    check(
      'scheduled_actions_version_target_check',
      sql`${t.actionType} = 'restart' or ${t.targetImageTag} is not null`,
    ),
  ],
);

export const scheduledActionStages = pgTable(
  'scheduled_action_stages',
  {
    id: uuid().primaryKey().defaultRandom(),
    actionId: uuid()
      .notNull()
      .references(() => scheduledActions.id, { onDelete: 'cascade' }),
    index: integer().notNull(),
    scheduledAt: tstz().notNull(),
    status: text({ enum: STAGE_STATUSES }).notNull().default('pending'),
    /** The gate's decision when the stage finished, in words. */
    gateResult: text(),
    doorbellMessageId: text(),
    startedAt: tstz(),
    completedAt: tstz(),
    ...counters(),
    ...openCounters(),
  },
  (t) => [
    uniqueIndex('scheduled_action_stages_action_index_key').on(t.actionId, t.index),
    index('scheduled_action_stages_due_idx')
      .on(t.scheduledAt)
      .where(sql`${t.status} in ('pending', 'running')`),
    // The deployment-wide cap sums `running` over these (whatever the stage's status).
    index('scheduled_action_stages_running_idx').on(t.running).where(sql`${t.running} > 0`),
    check('scheduled_action_stages_status_check', sql`${t.status} in (${inList(STAGE_STATUSES)})`),
  ],
);

export const scheduledActionTargets = pgTable(
  'scheduled_action_targets',
  {
    id: uuid().primaryKey().defaultRandom(),
    actionId: uuid()
      .notNull()
      .references(() => scheduledActions.id, { onDelete: 'cascade' }),
    stageId: uuid()
      .notNull()
      .references(() => scheduledActionStages.id, { onDelete: 'cascade' }),
    instanceId: uuid()
      .notNull()
      .references(() => instances.id),
    userId: uuid()
      .notNull()
      .references(() => users.id),
    sourceImageTag: text(),
    targetImageTag: text(),
    status: text({ enum: TARGET_STATUSES }).notNull().default('pending'),
    /** destroyed, pinned, already_on_target, halted, … */
    skipReason: text(),
    error: text(),
    /** The instance operation that applies this target. */
    operationId: uuid().references(() => instanceOperations.id, { onDelete: 'set null' }),
    /**
     * The claim that moved it to `running`. A target is claimed, re-checked and given its
     * operation in one transaction, so it needs no lease: from then on the operation owns it.
     */
    ...claimColumns(),
    /** Not before this time (busy instances are retried later). */
    nextAttemptAt: tstz().notNull(),
    /** First time the instance was found busy: the retry window counts from here. */
    busySince: tstz(),
    appliedAt: tstz(),
    finishedAt: tstz(),
    createdAt: tstz().notNull().defaultNow(),
  },
  (t) => [
    // At most one pending or running target per instance, across every action.
    uniqueIndex('scheduled_action_targets_one_active_per_instance')
      .on(t.instanceId)
      .where(sql`${t.status} in ('pending', 'running')`),
    index('scheduled_action_targets_stage_status_idx').on(t.stageId, t.status, t.nextAttemptAt),
    index('scheduled_action_targets_action_status_idx').on(t.actionId, t.status, t.id),
    index('scheduled_action_targets_operation_idx').on(t.operationId),
    index('scheduled_action_targets_instance_idx').on(t.instanceId, t.createdAt.desc()),
    check(
      'scheduled_action_targets_status_check',
      sql`${t.status} in (${inList(TARGET_STATUSES)})`,
    ),
  ],
);
