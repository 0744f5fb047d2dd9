import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tstz } from './columns.ts';

/** End users of the product: each owns agent instances. Soft-deleted (GDPR) by `deleted_at`. */
export const users = pgTable(
  'users',
  {
    id: uuid().primaryKey().defaultRandom(),
    email: text().notNull(),
    displayName: text(),
    /** IANA zone name (e.g. `Europe/Berlin`) used when telling the user about times. */
    timeZone: text().notNull().default('UTC'),
    createdAt: tstz().notNull().defaultNow(),
    deletedAt: tstz(),
    /**
     * Platform user tokens carry the version they were minted at; raising it revokes every
     * token of this user at once (src/auth/user-tokens.ts).
     */
    tokenVersion: integer().notNull().default(0),
  },
  (t) => [
    uniqueIndex('users_email_key').on(sql`lower(${t.email})`),
    index('users_created_at_idx').on(t.createdAt, t.id),
  ],
);
