import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { admins } from './auth.ts';
import { claimColumns, leaseColumn, tstz } from './columns.ts';
import { instances } from './fleet.ts';
import { users } from './users.ts';

export const CLI_RUN_STATUSES = [
  'starting',
  'running',
  'completed',
  'failed',
  'cancelled',
] as const;
export type CliRunStatus = (typeof CLI_RUN_STATUSES)[number];
/** A run in one of these holds its instance; at most one per instance (partial unique index). */
export const LIVE_CLI_RUN_STATUSES = ['starting', 'running'] as const;
export const CLI_RUN_INITIATORS = ['user', 'admin'] as const;
/**
 * What an ended run still owes its controller: `pending`, a cancel that the controller has
 * not confirmed yet (the run may still be live on the machine; the follow doorbell retries
 * it); `confirmed`, the controller reported the run ended or not known; `machine_gone`, Fly
 * reports the machine stopped or destroyed, so nothing of it is live. Null: nothing owed.
 */
export const CLI_RUN_CLEANUPS = ['pending', 'confirmed', 'machine_gone'] as const;
export type CliRunCleanup = (typeof CLI_RUN_CLEANUPS)[number];
export type CliRunInitiator = (typeof CLI_RUN_INITIATORS)[number];

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

/**
 * A CLI recovery run inside an instance (src/cli-runs). The row is written `starting`
 * before the instance's controller is called, so a failed call leaves a `failed` row,
 * never an orphan. It keeps the machine it runs on (`app_name`, `machine_id`) and a
 * snapshot of the names shown in lists, so a run is found, followed and cancelled by its
 * id whatever happens to the instance later.
 *
 * Claims: the starter holds the `starting` row (claim token and lease written by the
 * insert); each follow doorbell claims the row with a lease before it calls the controller:
 * a `starting` one whose start's answer was lost (to send it again with its key), a
 * `running` one (to poll it), an ended one with `cleanup = 'pending'` (to cancel it). `next_check_at` is when the follow looks next, `follow_delay_ms` the current
 * backoff (2 s doubling to 30 s while no output arrives).
 */
export const cliRuns = pgTable(
  'cli_runs',
  {
    id: uuid().primaryKey().defaultRandom(),
    instanceId: uuid()
      .notNull()
      .references(() => instances.id, { onDelete: 'cascade' }),
    userId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    initiatedBy: text({ enum: CLI_RUN_INITIATORS }).notNull(),
    initiatedByAdminId: uuid().references(() => admins.id, { onDelete: 'set null' }),
    /** Who started it as shown at the time (admin email, API key label). */
    initiatedByLabel: text().notNull(),
    prompt: text().notNull(),
    status: text({ enum: CLI_RUN_STATUSES }).notNull().default('starting'),
    exitCode: integer(),
    /** The controller's id for the run, once it accepted the start. */
    controllerRunId: text(),
    appName: text().notNull(),
    machineId: text().notNull(),
    instanceName: text().notNull(),
    userEmail: text().notNull(),
    /** Lower-cased prompt, instance id and name, user email: the list's substring search. */
    searchText: text().notNull().default(''),
    /** The last bytes of output (at most 64 KiB, cut at a character boundary). */
    outputTail: text().notNull().default(''),
    /** UTF-8 bytes of output read so far: the controller's offset to read from next. */
    outputSize: bigint({ mode: 'number' }).notNull().default(0),
    /** UTF-8 bytes of output the controller last reported (`outputSize` of its status). */
    outputReportedSize: bigint({ mode: 'number' }).notNull().default(0),
    /**
     * Set when the run ended with output unread (`output_reported_size - output_size`
     * bytes): why the rest could not be read. Null: all of it was read.
     */
    outputCutReason: text(),
    /** See {@link CLI_RUN_CLEANUPS}. */
    cleanup: text({ enum: CLI_RUN_CLEANUPS }),
    lastError: text(),
    nextCheckAt: tstz(),
    followDelayMs: integer().notNull().default(2000),
    /** No terminal state by then: cancelled on the controller and failed. */
    deadlineAt: tstz().notNull(),
    ...claimColumns(),
    ...leaseColumn(),
    createdAt: tstz().notNull().defaultNow(),
    startedAt: tstz(),
    endedAt: tstz(),
    updatedAt: tstz().notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('cli_runs_one_live_per_instance')
      .on(t.instanceId)
      .where(sql`${t.status} in (${inList(LIVE_CLI_RUN_STATUSES)})`),
    index('cli_runs_instance_created_idx').on(t.instanceId, t.createdAt.desc(), t.id.desc()),
    index('cli_runs_created_idx').on(t.createdAt, t.id),
    index('cli_runs_status_created_idx').on(t.status, t.createdAt, t.id),
    index('cli_runs_live_due_idx')
      .on(t.nextCheckAt)
      .where(sql`${t.status} in (${inList(LIVE_CLI_RUN_STATUSES)})`),
    index('cli_runs_cleanup_due_idx').on(t.nextCheckAt).where(sql`${t.cleanup} = 'pending'`),
    index('cli_runs_search_trgm_idx').using('gin', sql`${t.searchText} gin_trgm_ops`),
    check('cli_runs_status_check', sql`${t.status} in (${inList(CLI_RUN_STATUSES)})`),
    check(
      'cli_runs_cleanup_check',
      sql`${t.cleanup} is null or ${t.cleanup} in (${inList(CLI_RUN_CLEANUPS)})`,
    ),
    check('cli_runs_initiated_by_check', sql`${t.initiatedBy} in (${inList(CLI_RUN_INITIATORS)})`),
    check('cli_runs_prompt_length_check', sql`char_length(${t.prompt}) between 1 and 10000`),
  ],
);
