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
import { claimColumns, leaseColumn, tstz } from './columns.ts';
import { instances } from './fleet.ts';
import { scheduledActions, scheduledActionTargets } from './scheduler.ts';
import { users } from './users.ts';

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

export const NOTICE_KINDS = ['notice', 'cancelled'] as const;
export const NOTICE_CHANNELS = ['email', 'push', 'webapp'] as const;
/**
 * `skipped`: there was nothing to send it to (a push to a user with no device: no push
 * token registered), so nothing failed; `last_error` says why (`NO_DEVICE`).
 */
export const NOTICE_STATUSES = ['pending', 'sending', 'sent', 'failed', 'skipped'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];
export type NoticeChannel = (typeof NOTICE_CHANNELS)[number];
export type NoticeStatus = (typeof NOTICE_STATUSES)[number];

/** How an action tells its users: chosen when it is scheduled, one row per action. */
export const scheduledActionNoticeSettings = pgTable(
  'scheduled_action_notice_settings',
  {
    actionId: uuid()
      .primaryKey()
      .references(() => scheduledActions.id, { onDelete: 'cascade' }),
    notify: boolean().notNull().default(true),
    /** Minutes before each target's stage time that its notice is due (0–10,080). */
    leadMinutes: integer().notNull().default(1440),
    /** The admin's subject line (≤ 120 characters); null: the template's. */
    subject: text(),
    /** The admin's message (plain text, ≤ 2,000 characters), shown escaped with its newlines. */
    body: text(),
    channels: jsonb().$type<NoticeChannel[]>().notNull(),
    createdAt: tstz().notNull().defaultNow(),
  },
  (t) => [
    check('scheduled_action_notice_settings_lead_check', sql`${t.leadMinutes} between 0 and 10080`),
  ],
);

/**
 * One message to one user on one channel: the unit that is claimed and sent. A user with
 * several instances in an action gets one delivery per (action, kind, channel), naming all
 * of them; the per-target rows point to it. Its job columns follow graphile-worker's words
 * (`attempts`, `max_attempts`, `next_attempt_at`, `last_error`), and the provider call's
 * idempotency key is derived from `batch_id`, which a delivery keeps across its retries.
 */
export const noticeDeliveries = pgTable(
  'notice_deliveries',
  {
    id: uuid().primaryKey().defaultRandom(),
    actionId: uuid()
      .notNull()
      .references(() => scheduledActions.id, { onDelete: 'cascade' }),
    userId: uuid()
      .notNull()
      .references(() => users.id),
    kind: text({ enum: NOTICE_KINDS }).notNull(),
    channel: text({ enum: NOTICE_CHANNELS }).notNull(),
    status: text({ enum: NOTICE_STATUSES }).notNull().default('pending'),
    /** Due: the earliest due time of its targets' notices; after a failure, the retry time. */
    nextAttemptAt: tstz().notNull(),
    maxAttempts: integer().notNull().default(8),
    ...claimColumns(),
    ...leaseColumn(),
    /**
     * The provider request this delivery is in (a batch of up to 100; the idempotency key
     * is made from it). Set by each claim of a `pending` delivery; a `sending` one whose
     * answer is unknown keeps it, and its batch goes again whole under the same key.
     */
    batchId: uuid(),
    sentAt: tstz(),
    /** Resend's email id, or Expo's ticket ids (comma-separated, one per device). */
    providerMessageId: text(),
    /** Push: each Expo ticket id and the device token it was for (to forget dead tokens). */
    pushTickets: jsonb().$type<Record<string, string>>(),
    /** Push: when Expo's receipts for its tickets were read (null: not yet). */
    receiptsCheckedAt: tstz(),
    lastError: text(),
    createdAt: tstz().notNull().defaultNow(),
  },
  (t) => [
    // One notice per (action, user, channel); cancellation follow-ups may come in several
    // rounds (one target cancelled, later another), but only one is open at a time.
    uniqueIndex('notice_deliveries_notice_key')
      .on(t.actionId, t.userId, t.channel)
      .where(sql`${t.kind} = 'notice'`),
    uniqueIndex('notice_deliveries_open_cancelled_key')
      .on(t.actionId, t.userId, t.channel)
      .where(sql`${t.kind} = 'cancelled' and ${t.status} = 'pending'`),
    // "Pending and due": what a dispatch claims.
    index('notice_deliveries_due_idx')
      .on(t.channel, t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
    index('notice_deliveries_sending_idx').on(t.leaseUntil).where(sql`${t.status} = 'sending'`),
    index('notice_deliveries_receipts_idx')
      .on(t.sentAt)
      .where(
        sql`${t.channel} = 'push' and ${t.status} = 'sent' and ${t.receiptsCheckedAt} is null`,
      ),
    index('notice_deliveries_action_idx').on(t.actionId, t.channel, t.status),
    check('notice_deliveries_kind_check', sql`${t.kind} in (${inList(NOTICE_KINDS)})`),
    check('notice_deliveries_channel_check', sql`${t.channel} in (${inList(NOTICE_CHANNELS)})`),
    check('notice_deliveries_status_check', sql`${t.status} in (${inList(NOTICE_STATUSES)})`),
  ],
);

/**
 * One notice per (target, kind, channel): what one instance's user is told on one channel.
 * Its status follows its delivery's (the same statement moves both); `due_at` is the
 * target's stage time − the action's lead, clamped to when it was planned.
 */
export const scheduledActionNotices = pgTable(
  'scheduled_action_notices',
  {
    id: uuid().primaryKey().defaultRandom(),
    actionId: uuid()
      .notNull()
      .references(() => scheduledActions.id, { onDelete: 'cascade' }),
    targetId: uuid()
      .notNull()
      .references(() => scheduledActionTargets.id, { onDelete: 'cascade' }),
    instanceId: uuid()
      .notNull()
      .references(() => instances.id),
    userId: uuid()
      .notNull()
      .references(() => users.id),
    deliveryId: uuid()
      .notNull()
      .references(() => noticeDeliveries.id, { onDelete: 'cascade' }),
    kind: text({ enum: NOTICE_KINDS }).notNull(),
    channel: text({ enum: NOTICE_CHANNELS }).notNull(),
    status: text({ enum: NOTICE_STATUSES }).notNull().default('pending'),
    dueAt: tstz().notNull(),
    /** The stage time this notice announces (what the banner and the message say). */
    actionAt: tstz().notNull(),
    sentAt: tstz(),
    /**
     * When its target was cancelled while this notice was being sent (`sending`: it may
     * reach the user). Once the send is recorded `sent`, the `cancelled` follow-up is queued;
     * a send that ends `failed` needs none.
     */
    cancelledAt: tstz(),
    lastError: text(),
    createdAt: tstz().notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('scheduled_action_notices_target_kind_channel_key').on(
      t.targetId,
      t.kind,
      t.channel,
    ),
    index('scheduled_action_notices_pending_due_idx')
      .on(t.dueAt)
      .where(sql`${t.status} = 'pending'`),
    index('scheduled_action_notices_delivery_idx').on(t.deliveryId),
    index('scheduled_action_notices_instance_idx').on(t.instanceId, t.channel, t.dueAt),
    index('scheduled_action_notices_action_idx').on(t.actionId, t.status),
    check('scheduled_action_notices_kind_check', sql`${t.kind} in (${inList(NOTICE_KINDS)})`),
    check(
      'scheduled_action_notices_channel_check',
      sql`${t.channel} in (${inList(NOTICE_CHANNELS)})`,
    ),
    check(
      'scheduled_action_notices_status_check',
      sql`${t.status} in (${inList(NOTICE_STATUSES)})`,
    ),
  ],
);

/** Expo push tokens of a user's devices (`ExponentPushToken[…]`); one row per token. */
export const userPushTokens = pgTable(
  'user_push_tokens',
  {
    token: text().primaryKey(),
    userId: uuid()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: tstz().notNull().defaultNow(),
  },
  (t) => [index('user_push_tokens_user_idx').on(t.userId)],
);
