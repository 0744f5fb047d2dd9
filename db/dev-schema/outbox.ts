import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tstz } from '../schema/columns.ts';

// The outbox stand-in for the email and push providers (embedded mode and tests only):
// every message the app sends is recorded here instead, and shown on the console's Outbox
// page as the user would see it.

export const simOutboxMessages = pgTable(
  'sim_outbox_messages',
  {
    id: uuid().primaryKey().defaultRandom(),
    channel: text({ enum: ['email', 'push'] }).notNull(),
    /** An email address, or an Expo push token. */
    recipient: text().notNull(),
    subject: text().notNull(),
    text: text().notNull(),
    html: text(),
    /** What the sender attached (`actionId`, `kind`, `deliveryId`), as provider tags. */
    tags: jsonb().$type<Record<string, string>>().notNull().default({}),
    /**
     * The request's idempotency key and the message's place in it: a repeated request
     * with the same key records nothing new and answers the first ids (as Resend does).
     */
    idempotencyKey: text(),
    createdAt: tstz().notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('sim_outbox_messages_idempotency_key').on(t.idempotencyKey),
    index('sim_outbox_messages_created_idx').on(t.createdAt.desc(), t.id.desc()),
    index('sim_outbox_messages_recipient_idx').on(sql`lower(${t.recipient})`),
    check('sim_outbox_messages_channel_check', sql`${t.channel} in ('email', 'push')`),
  ],
);
