import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
} from 'drizzle-orm/pg-core';
import { tstz } from '../schema/columns.ts';

// Tables of the local QStash-compatible emulator (embedded mode and tests only). They
// persist messages and schedules so a delayed message survives a restart and fires once.

export const SIM_QSTASH_MESSAGE_STATUSES = [
  'pending',
  'delivering',
  'delivered',
  'failed',
  'cancelled',
] as const;

export const simQstashMessages = pgTable(
  'sim_qstash_messages',
  {
    messageId: text().primaryKey(),
    destination: text().notNull(),
    method: text().notNull().default('POST'),
    /** Headers sent with each delivery (Content-Type and un-prefixed Upstash-Forward-*). */
    headers: jsonb().$type<Record<string, string>>().notNull().default({}),
    bodyBase64: text().notNull().default(''),
    notBefore: tstz().notNull(),
    maxRetries: integer().notNull().default(3),
    retried: integer().notNull().default(0),
    retryDelayExpression: text(),
    timeoutSeconds: integer(),
    callback: text(),
    failureCallback: text(),
    scheduleId: text(),
    callerIp: text(),
    status: text({ enum: SIM_QSTASH_MESSAGE_STATUSES }).notNull().default('pending'),
    nextAttemptAt: tstz().notNull(),
    lockedUntil: tstz(),
    lastStatus: integer(),
    lastError: text(),
    createdAt: tstz().notNull(),
    finishedAt: tstz(),
  },
  (t) => [
    index('sim_qstash_messages_due_idx').on(t.status, t.nextAttemptAt),
    check(
      'sim_qstash_messages_status_check',
      sql`${t.status} in ('pending', 'delivering', 'delivered', 'failed', 'cancelled')`,
    ),
  ],
);

/** Deduplication keys (explicit id or content hash), valid for QStash's 10-minute window. */
export const simQstashDedup = pgTable('sim_qstash_dedup', {
  key: text().primaryKey(),
  messageId: text().notNull(),
  expiresAt: tstz().notNull(),
});

export const simQstashDlq = pgTable(
  'sim_qstash_dlq',
  {
    dlqId: text().primaryKey(),
    messageId: text().notNull(),
    /** The message as it was when it failed (a `sim_qstash_messages` row, JSON). */
    message: jsonb().$type<Record<string, unknown>>().notNull(),
    responseStatus: integer(),
    responseHeaders: jsonb().$type<Record<string, string[]>>(),
    responseBody: text(),
    createdAt: tstz().notNull(),
  },
  (t) => [index('sim_qstash_dlq_created_at_idx').on(t.createdAt)],
);

export const simQstashSchedules = pgTable('sim_qstash_schedules', {
  scheduleId: text().primaryKey(),
  /** As given, including a `CRON_TZ=<zone> ` prefix. */
  cron: text().notNull(),
  destination: text().notNull(),
  method: text().notNull().default('POST'),
  headers: jsonb().$type<Record<string, string>>().notNull().default({}),
  bodyBase64: text().notNull().default(''),
  retries: integer().notNull().default(3),
  delaySeconds: integer().notNull().default(0),
  retryDelayExpression: text(),
  timeoutSeconds: integer(),
  callback: text(),
  failureCallback: text(),
  paused: boolean().notNull().default(false),
  createdAt: tstz().notNull(),
  lastScheduleTime: tstz(),
  nextScheduleTime: tstz().notNull(),
  lastMessageId: text(),
});

export const SIM_QSTASH_EVENT_STATES = [
  'CREATED',
  'ACTIVE',
  'DELIVERED',
  'ERROR',
  'RETRY',
  'FAILED',
  'CANCELLED',
] as const;

/** The log `GET /v2/events` (and `/v2/logs`) pages through, newest first. */
export const simQstashEvents = pgTable(
  'sim_qstash_events',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    messageId: text().notNull(),
    state: text({ enum: SIM_QSTASH_EVENT_STATES }).notNull(),
    url: text().notNull(),
    time: tstz().notNull(),
    nextDeliveryTime: tstz(),
    responseStatus: integer(),
    error: text(),
    scheduleId: text(),
  },
  (t) => [index('sim_qstash_events_message_idx').on(t.messageId, t.id)],
);
