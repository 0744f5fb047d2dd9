import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { apiKeys } from './auth.ts';
import { claimColumns, leaseColumn, tstz } from './columns.ts';

/** `in_progress`: a request holds the key (claimed, leased); `completed`: its answer is kept. */
export const IDEMPOTENCY_STATUSES = ['in_progress', 'completed'] as const;
export type IdempotencyStatus = (typeof IDEMPOTENCY_STATUSES)[number];

/**
 * One `Idempotency-Key` a client sent with a creating request
 * (draft-ietf-httpapi-idempotency-key-header): claimed before the handler runs (a unit of
 * work with a lease, src/lib/work), then holding the first answer, replayed to every retry
 * with the same key and body until `expires_at` (24 h), when the sweep deletes the row.
 * Unique per credential: the API key, and the user a platform request acts for.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    id: uuid().primaryKey().defaultRandom(),
    apiKeyId: uuid()
      .notNull()
      .references(() => apiKeys.id, { onDelete: 'cascade' }),
    /** The user a platform request acted for; '' for admin tokens and keys without a user. */
    userId: text().notNull().default(''),
    key: text().notNull(),
    method: text().notNull(),
    path: text().notNull(),
    /** Lower-case hex SHA-256 of the method, path and raw body bytes. */
    fingerprint: text().notNull(),
    status: text({ enum: IDEMPOTENCY_STATUSES }).notNull().default('in_progress'),
    responseStatus: integer(),
    responseHeaders: jsonb().$type<Record<string, string>>(),
    responseBody: text(),
    ...claimColumns(),
    ...leaseColumn(),
    createdAt: tstz().notNull(),
    expiresAt: tstz().notNull(),
  },
  (t) => [
    uniqueIndex('idempotency_keys_scope_key').on(t.apiKeyId, t.userId, t.key),
    index('idempotency_keys_expires_at_idx').on(t.expiresAt),
    check('idempotency_keys_status_check', sql`${t.status} in ('in_progress', 'completed')`),
  ],
);
