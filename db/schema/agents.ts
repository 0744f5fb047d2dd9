import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { claimColumns, leaseColumn, tstz } from './columns.ts';
import { instances } from './fleet.ts';

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

/** What a fire does when a session of the agent is still live (Temporal Schedules' overlap policies). */
export const OVERLAP_POLICIES = ['skip', 'buffer_one', 'allow_all', 'cancel_other'] as const;
/** What happens to fire times missed while the product or the instance was down. */
export const CATCHUP_POLICIES = ['skip', 'once', 'all'] as const;
export const SESSION_TRIGGERS = ['api', 'cron', 'manual'] as const;
/**
 * `buffered`: a fire held back by `buffer_one` until the live session ends; `creating`: the
 * row exists and the controller is (about to be) asked; `ready`: the controller runs it;
 * `skipped`: never started (`reason` says why).
 */
export const SESSION_STATUSES = [
  'buffered',
  'creating',
  'ready',
  'completed',
  'failed',
  'skipped',
] as const;
/**
 * Why a session was skipped, or why a live one failed: `cancelled` (overlap policy
 * `cancel_other`), `machine_lost` (Fly reports its machine stopped, failed or destroyed).
 */
export const SESSION_REASONS = [
  'overlap',
  'instance_not_running',
  'agent_disabled',
  'cancelled',
  'machine_lost',
] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];
export type CatchupPolicy = (typeof CATCHUP_POLICIES)[number];
export type SessionTrigger = (typeof SESSION_TRIGGERS)[number];
export type SessionStatus = (typeof SESSION_STATUSES)[number];
export type SessionReason = (typeof SESSION_REASONS)[number];

/**
 * A configured task on an instance. With a cron expression and `enabled`, `next_fire_at` is
 * its next fire time: the claim that fires it moves `next_fire_at` on in the same
 * transaction, so a fire time is taken once (docs/cron.md).
 */
export const agents = pgTable(
  'agents',
  {
    id: uuid().primaryKey().defaultRandom(),
    instanceId: uuid()
      .notNull()
      .references(() => instances.id, { onDelete: 'cascade' }),
    name: text().notNull(),
    prompt: text().notNull(),
    /** 5 fields, at most 120 characters; null: no schedule (runs only when asked). */
    cronExpression: text(),
    /** IANA zone the expression is read in. */
    timeZone: text().notNull(),
    enabled: boolean().notNull().default(true),
    overlapPolicy: text({ enum: OVERLAP_POLICIES }).notNull().default('skip'),
    catchupPolicy: text({ enum: CATCHUP_POLICIES }).notNull().default('skip'),
    /** Missed fire times older than this (seconds before the claim) are never caught up. */
    catchupWindowSeconds: integer().notNull().default(3600),
    /** Null when there is no schedule, the agent is paused or disabled, or nothing matches again. */
    nextFireAt: tstz(),
    /** The latest fire time that started a session (skipped fires never write it). */
    lastFiredAt: tstz(),
    /** The last fire's outcome: `started`, `skipped: <reason>`, `failed: <error>`. */
    lastOutcome: text(),
    /** Why the system disabled the agent (its expression or zone stopped parsing). */
    disabledReason: text(),
    createdAt: tstz().notNull().defaultNow(),
    updatedAt: tstz().notNull().defaultNow(),
  },
  (t) => [
    index('agents_enabled_next_fire_at_idx').on(t.enabled, t.nextFireAt),
    index('agents_instance_id_idx').on(t.instanceId, t.name, t.id),
    index('agents_name_id_idx').on(t.name, t.id),
    check('agents_overlap_policy_check', sql`${t.overlapPolicy} in (${inList(OVERLAP_POLICIES)})`),
    check('agents_catchup_policy_check', sql`${t.catchupPolicy} in (${inList(CATCHUP_POLICIES)})`),
    check('agents_catchup_window_check', sql`${t.catchupWindowSeconds} between 60 and 604800`),
    check('agents_prompt_length_check', sql`char_length(${t.prompt}) between 1 and 10000`),
    check(
      'agents_cron_expression_length_check',
      sql`${t.cronExpression} is null or char_length(${t.cronExpression}) <= 120`,
    ),
  ],
);

/**
 * One session of an agent: started by a fire (`cron`, one per fire time: a unique index), an
 * admin's "run now" (`manual`) or the product (`api`). Starting and following it are claimed
 * steps with a lease (the work-unit engine, src/lib/work/), rung by doorbells at
 * `next_check_at`.
 */
export const agentSessions = pgTable(
  'agent_sessions',
  {
    id: uuid().primaryKey().defaultRandom(),
    agentId: uuid()
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    instanceId: uuid()
      .notNull()
      .references(() => instances.id, { onDelete: 'cascade' }),
    trigger: text({ enum: SESSION_TRIGGERS }).notNull(),
    /** The fire time it serves (`cron`), or when it was asked for. */
    scheduledFor: tstz().notNull(),
    status: text({ enum: SESSION_STATUSES }).notNull(),
    reason: text({ enum: SESSION_REASONS }),
    /** The prompt as it was when the session was created. */
    prompt: text().notNull(),
    controllerSessionId: text(),
    /**
     * When a start of this session first got no sure answer (a timeout, a 5xx, a lost
     * connection): the controller may have started it, so it is never skipped or failed for
     * that, and is looked up by sending the start again with the same Idempotency-Key.
     * Null: every start sent so far was answered.
     */
    startUnknownAt: tstz(),
    ...claimColumns(),
    ...leaseColumn(),
    /** When the next start or follow step is due (doorbells are rung for it). */
    nextCheckAt: tstz().notNull().defaultNow(),
    lastError: text(),
    createdAt: tstz().notNull().defaultNow(),
    startedAt: tstz(),
    endedAt: tstz(),
  },
  (t) => [
    uniqueIndex('agent_sessions_one_per_fire_time')
      .on(t.agentId, t.scheduledFor)
      .where(sql`${t.trigger} = 'cron'`),
    index('agent_sessions_agent_created_idx').on(t.agentId, t.createdAt.desc(), t.id.desc()),
    index('agent_sessions_live_idx')
      .on(t.agentId)
      .where(sql`${t.status} in ('buffered', 'creating', 'ready')`),
    index('agent_sessions_due_idx')
      .on(t.nextCheckAt)
      .where(sql`${t.status} in ('creating', 'ready')`),
    check('agent_sessions_trigger_check', sql`${t.trigger} in (${inList(SESSION_TRIGGERS)})`),
    check('agent_sessions_status_check', sql`${t.status} in (${inList(SESSION_STATUSES)})`),
    check(
      'agent_sessions_reason_check',
      sql`${t.reason} is null or ${t.reason} in (${inList(SESSION_REASONS)})`,
    ),
  ],
);
