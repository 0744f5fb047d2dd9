import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { claimColumns, leaseColumn, tstz } from './columns.ts';
import { instances } from './fleet.ts';

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

export const RECOVERY_TRIGGERS = ['reconcile', 'admin'] as const;
export type RecoveryTrigger = (typeof RECOVERY_TRIGGERS)[number];
/** What reconcile saw (or that an admin asked). */
export const RECOVERY_CAUSES = [
  'machine_stopped',
  'machine_failed',
  'machine_destroyed',
  'machine_missing',
  'host_unreachable',
  'admin_request',
] as const;
export type RecoveryCause = (typeof RECOVERY_CAUSES)[number];
/** `pending`: waiting for its doorbell; `running`: a handler holds it. */
export const RECOVERY_STATUSES = ['pending', 'running', 'succeeded', 'failed'] as const;
export type RecoveryStatus = (typeof RECOVERY_STATUSES)[number];
/**
 * The state reached, named as the design's state machine. The work of a step is what
 * leads out of it: `in_place_start` starts the old machine; `started` makes the replacement
 * volume; `volume_created` the machine; `machine_created` waits for it and probes it;
 * `machine_started` cuts over; `cut_over` disposes of the old volume.
 */
export const RECOVERY_STEPS = [
  'in_place_start',
  'started',
  'volume_created',
  'machine_created',
  'machine_started',
  'cut_over',
  'succeeded',
  'failed',
] as const;
export type RecoveryStep = (typeof RECOVERY_STEPS)[number];
/**
 * Why an active recovery is waiting instead of moving on, in Fly's words: the old volume's
 * host is `unreachable` (`host_status`) and there is no snapshot to restore, or every
 * allowed region answered `insufficient_capacity`. Nothing is destroyed while it waits.
 */
export const RECOVERY_WAITS = ['host_unreachable', 'insufficient_capacity'] as const;
export type RecoveryWait = (typeof RECOVERY_WAITS)[number];

/** One entry of a recovery's step history: when it entered the step, and a note. */
export type RecoveryHistoryEntry = { step: RecoveryStep; at: string; note?: string };

/**
 * One unexpected-stop recovery of an instance: a persisted state machine run by
 * doorbells, one step per callback, each claimed with a lease before its Fly call. At most
 * one active (pending or running) recovery per instance, enforced by a partial unique index.
 */
export const recoveries = pgTable(
  'recoveries',
  {
    id: uuid().primaryKey().defaultRandom(),
    instanceId: uuid()
      .notNull()
      .references(() => instances.id, { onDelete: 'cascade' }),
    /** Creation order (timestamps can tie within a millisecond). */
    seq: bigint({ mode: 'number' }).generatedAlwaysAsIdentity(),
    trigger: text({ enum: RECOVERY_TRIGGERS }).notNull(),
    cause: text({ enum: RECOVERY_CAUSES }).notNull(),
    /** The machine state Fly reported when the recovery began (null: no machine). */
    flyState: text(),
    /** The machine's `host_status` Fly reported (`ok`, `unknown`, `unreachable`). */
    hostStatus: text(),
    status: text({ enum: RECOVERY_STATUSES }).notNull().default('pending'),
    step: text({ enum: RECOVERY_STEPS }).notNull(),
    /** The step it failed in (what an admin's retry resumes from). */
    failedStep: text({ enum: RECOVERY_STEPS }),
    /** True when it ended by starting the old machine again. */
    inPlace: boolean().notNull().default(false),
    ...claimColumns(),
    ...leaseColumn(),
    /** Claims of the current step (a claim after the first is a rerun: look before creating). */
    stepClaims: integer().notNull().default(0),
    /** Failed tries of the current step (bounded; backoff grows with it). */
    stepFailures: integer().notNull().default(0),
    /** When the current step gives up waiting (a machine that does not start). */
    stepDeadlineAt: tstz(),
    /** When the next step may run (doorbells are rung for this time). */
    nextAttemptAt: tstz().notNull().defaultNow(),
    oldMachineId: text(),
    oldVolumeId: text(),
    oldRegion: text().notNull(),
    newMachineId: text(),
    newVolumeId: text(),
    /** The machine version the replacement (or restarted) machine runs. */
    newMachineVersion: text(),
    /** The region being tried for the replacement (the old one, then the fallbacks). */
    regionTried: text(),
    /** Index into [old region, ...fallbacks] of `regionTried`. */
    regionIndex: integer().notNull().default(0),
    /** How the replacement volume was made: `fork` or `snapshot`. */
    volumeSource: text({ enum: ['fork', 'snapshot'] }),
    retainedVolumeId: text(),
    retainUntil: tstz(),
    /** When the retained (or immediately deleted) old volume was deleted. */
    oldVolumeDeletedAt: tstz(),
    lastError: text(),
    /** What the recovery waits for (null: not waiting); the reason is in `last_error`. */
    waitingFor: text({ enum: RECOVERY_WAITS }),
    /** Since when it waits for `waiting_for`. */
    waitingSince: tstz(),
    /** Looks made while waiting in this placement (the backoff grows with it). */
    waits: integer().notNull().default(0),
    /** When the old machine was destroyed (only ever after the replacement exists). */
    oldMachineDestroyedAt: tstz(),
    /** A failed recovery: when reconcile may resume it (null: not automatically). */
    retryAt: tstz(),
    /** Times reconcile resumed this recovery after it failed (the backoff grows with it). */
    autoRetries: integer().notNull().default(0),
    /**
     * Set when a step has failed for good: the next claim removes the replacement machine
     * and volume made so far, then ends the recovery `failed` with this reason.
     */
    failReason: text(),
    history: jsonb().$type<RecoveryHistoryEntry[]>().notNull().default([]),
    requestedBy: text().notNull().default('system'),
    startedAt: tstz().notNull().defaultNow(),
    updatedAt: tstz().notNull().defaultNow(),
    endedAt: tstz(),
  },
  (t) => [
    uniqueIndex('recoveries_one_active_per_instance')
      .on(t.instanceId)
      .where(sql`${t.status} in ('pending', 'running')`),
    index('recoveries_seq_idx').on(t.seq.desc()),
    index('recoveries_instance_seq_idx').on(t.instanceId, t.seq.desc()),
    index('recoveries_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} in ('pending', 'running')`),
    index('recoveries_retry_idx')
      .on(t.retryAt)
      .where(sql`${t.status} = 'failed' and ${t.retryAt} is not null`),
    index('recoveries_retained_idx')
      .on(t.retainUntil)
      .where(sql`${t.retainedVolumeId} is not null and ${t.oldVolumeDeletedAt} is null`),
    check('recoveries_trigger_check', sql`${t.trigger} in (${inList(RECOVERY_TRIGGERS)})`),
    check('recoveries_cause_check', sql`${t.cause} in (${inList(RECOVERY_CAUSES)})`),
    check('recoveries_status_check', sql`${t.status} in (${inList(RECOVERY_STATUSES)})`),
    check('recoveries_step_check', sql`${t.step} in (${inList(RECOVERY_STEPS)})`),
    check(
      'recoveries_failed_step_check',
      sql`${t.failedStep} is null or ${t.failedStep} in (${inList(RECOVERY_STEPS)})`,
    ),
    check(
      'recoveries_waiting_for_check',
      sql`${t.waitingFor} is null or ${t.waitingFor} in (${inList(RECOVERY_WAITS)})`,
    ),
    check(
      'recoveries_volume_source_check',
      sql`${t.volumeSource} is null or ${t.volumeSource} in ('fork', 'snapshot')`,
    ),
  ],
);

/** One run of the every-minute reconcile: what it compared, found and did. */
export const reconcileRuns = pgTable(
  'reconcile_runs',
  {
    id: uuid().primaryKey().defaultRandom(),
    startedAt: tstz().notNull(),
    finishedAt: tstz(),
    durationMs: integer().notNull().default(0),
    /** Fly apps listed (one machines listing each). */
    apps: integer().notNull().default(0),
    /** Instances compared with their machines. */
    compared: integer().notNull().default(0),
    /** Instances whose machine diverged from what the database expects. */
    diverged: integer().notNull().default(0),
    /** Recoveries started by this run. */
    recoveriesStarted: integer().notNull().default(0),
    /** Failed recoveries this run resumed (their `retry_at` had come). */
    recoveriesRetried: integer().notNull().default(0),
    /** Divergences recorded and not acted on. */
    recorded: integer().notNull().default(0),
    /** Retained volumes deleted because their time had come. */
    volumesDeleted: integer().notNull().default(0),
    /** `reconcile`, `admin` (the console's or the API's button). */
    trigger: text().notNull().default('reconcile'),
    errors: jsonb().$type<string[]>().notNull().default([]),
    /** QStash message id of the doorbell that started the run (null when run by hand). */
    messageId: text(),
  },
  (t) => [
    index('reconcile_runs_started_at_idx').on(t.startedAt.desc()),
    uniqueIndex('reconcile_runs_message_id_key')
      .on(t.messageId)
      .where(sql`${t.messageId} is not null`),
  ],
);

/**
 * What reconcile has seen and not acted on yet, per instance and kind: a host unreachable
 * since `first_seen_at` (acted on past a threshold), or a divergence recorded once as an
 * event. Rows of divergences that ended are removed by the next run.
 */
export const reconcileSightings = pgTable(
  'reconcile_sightings',
  {
    instanceId: uuid()
      .notNull()
      .references(() => instances.id, { onDelete: 'cascade' }),
    kind: text().notNull(),
    firstSeenAt: tstz().notNull(),
    lastSeenAt: tstz().notNull(),
    detail: jsonb().$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [primaryKey({ columns: [t.instanceId, t.kind] })],
);
