import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { claimColumns, leaseColumn, tstz } from './columns.ts';
import { instances } from './fleet.ts';

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

/** `pending`: waiting for its doorbell; `running`: a handler holds it; `succeeded`: nothing left. */
export const DEPROVISION_STATUSES = ['pending', 'running', 'succeeded'] as const;
export type DeprovisionStatus = (typeof DEPROVISION_STATUSES)[number];
/**
 * The step reached; the work of a step is what leads out of it. `waiting`: for the
 * operation or recovery step in flight to end; `ending_work`: scheduled targets cancelled,
 * the CLI run cancelled, agents disabled; `destroying_machine`; `deleting_volume` (or
 * keeping it when it has snapshots); `retaining`: the instance is destroyed, its volume is
 * kept until `retain_until`; `destroyed`.
 */
export const DEPROVISION_STEPS = [
  'waiting',
  'ending_work',
  'destroying_machine',
  'deleting_volume',
  'retaining',
  'destroyed',
] as const;
export type DeprovisionStep = (typeof DEPROVISION_STEPS)[number];
/** What became of the volume: deleted, already gone, kept (snapshots), or refused (not ours). */
export const VOLUME_OUTCOMES = ['deleted', 'gone', 'retained', 'refused'] as const;
export type VolumeOutcome = (typeof VOLUME_OUTCOMES)[number];

/**
 * The deprovision of one instance: a persisted state machine run by doorbells, one step per
 * callback, each claimed with a lease before its Fly call (src/lib/work). One per instance,
 * ever (a unique index): every DELETE of the instance answers this row.
 */
export const instanceDeprovisions = pgTable(
  'instance_deprovisions',
  {
    id: uuid().primaryKey().defaultRandom(),
    instanceId: uuid()
      .notNull()
      .references(() => instances.id, { onDelete: 'cascade' }),
    status: text({ enum: DEPROVISION_STATUSES }).notNull().default('pending'),
    step: text({ enum: DEPROVISION_STEPS }).notNull().default('waiting'),
    requestedBy: text().notNull(),
    /** The machine and volume it destroys (the instance's when the request was made). */
    machineId: text(),
    volumeId: text(),
    appName: text().notNull(),
    ...claimColumns(),
    ...leaseColumn(),
    /** Failed tries of the current step (the backoff grows with it; never gives up). */
    stepFailures: integer().notNull().default(0),
    /** Why the current step has not finished yet (waiting, a Fly error); cleared on a step. */
    lastNote: text(),
    nextAttemptAt: tstz().notNull().defaultNow(),
    machineDestroyedAt: tstz(),
    volumeOutcome: text({ enum: VOLUME_OUTCOMES }),
    /** A refused deletion: why the volume was left alone. */
    volumeNote: text(),
    /** Until when a volume with snapshots is kept (`RECOVERY_RETAIN_DAYS`). */
    retainUntil: tstz(),
    volumeDeletedAt: tstz(),
    createdAt: tstz().notNull().defaultNow(),
    updatedAt: tstz().notNull().defaultNow(),
    /** When the instance became `destroyed`. */
    destroyedAt: tstz(),
    /** When nothing was left to do (the volume deleted, gone, refused, or its retention over). */
    endedAt: tstz(),
  },
  (t) => [
    uniqueIndex('instance_deprovisions_instance_key').on(t.instanceId),
    index('instance_deprovisions_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} in ('pending', 'running')`),
    check(
      'instance_deprovisions_status_check',
      sql`${t.status} in (${inList(DEPROVISION_STATUSES)})`,
    ),
    check('instance_deprovisions_step_check', sql`${t.step} in (${inList(DEPROVISION_STEPS)})`),
    check(
      'instance_deprovisions_volume_outcome_check',
      sql`${t.volumeOutcome} is null or ${t.volumeOutcome} in (${inList(VOLUME_OUTCOMES)})`,
    ),
  ],
);
