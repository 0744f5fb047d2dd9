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
import { tstz } from './columns.ts';

/** Operators who sign in to the admin console. */
export const admins = pgTable(
  'admins',
  {
    id: uuid().primaryKey().defaultRandom(),
    email: text().notNull(),
    displayName: text(),
    /** `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`; never the password. */
    passwordHash: text().notNull(),
    /** Set for a generated one-time password: the console asks for a new one first. */
    mustChangePassword: boolean().notNull().default(false),
    /** IANA zone the admin chose for the console; null: the browser's zone. */
    timeZone: text(),
    createdAt: tstz().notNull().defaultNow(),
    lastLoginAt: tstz(),
    disabledAt: tstz(),
  },
  (t) => [uniqueIndex('admins_email_key').on(sql`lower(${t.email})`)],
);

/**
 * Server-side console sessions. The cookie carries a random token; only its SHA-256 is
 * stored, so a read of this table cannot be replayed as a cookie.
 */
export const adminSessions = pgTable(
  'admin_sessions',
  {
    id: uuid().primaryKey().defaultRandom(),
    adminId: uuid()
      .notNull()
      .references(() => admins.id, { onDelete: 'cascade' }),
    tokenHash: text().notNull(),
    createdAt: tstz().notNull().defaultNow(),
    lastSeenAt: tstz().notNull().defaultNow(),
    expiresAt: tstz().notNull(),
    revokedAt: tstz(),
    userAgent: text(),
  },
  (t) => [
    uniqueIndex('admin_sessions_token_hash_key').on(t.tokenHash),
    index('admin_sessions_admin_id_idx').on(t.adminId),
  ],
);

/**
 * Bearer credentials: `admin` tokens for `/api/admin/*`, `platform` keys for
 * `/api/platform/*`. Stored as SHA-256; `prefix` (the first 12 characters) finds the row
 * and is shown in the console so a key can be recognised without revealing it.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid().primaryKey().defaultRandom(),
    kind: text({ enum: ['admin', 'platform'] }).notNull(),
    prefix: text().notNull(),
    hash: text().notNull(),
    label: text().notNull(),
    createdBy: uuid().references(() => admins.id, { onDelete: 'set null' }),
    createdAt: tstz().notNull().defaultNow(),
    lastUsedAt: tstz(),
    revokedAt: tstz(),
  },
  (t) => [
    uniqueIndex('api_keys_prefix_key').on(t.prefix),
    index('api_keys_kind_created_at_idx').on(t.kind, t.createdAt),
    check('api_keys_kind_check', sql`${t.kind} in ('admin', 'platform')`),
  ],
);

/**
 * Failed sign-in counters per key (`email:<address>` and `ip:<address>`), so throttling
 * holds across processes.
 */
export const loginThrottle = pgTable('login_throttle', {
  key: text().primaryKey(),
  failures: integer().notNull().default(0),
  windowStartedAt: tstz().notNull(),
  lockedUntil: tstz(),
});
