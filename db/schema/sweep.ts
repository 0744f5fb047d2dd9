import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tstz } from './columns.ts';

/** One run of the every-minute sweep: what it found and what it did, per sweeper. */
export const sweepRuns = pgTable(
  'sweep_runs',
  {
    id: uuid().primaryKey().defaultRandom(),
    startedAt: tstz().notNull(),
    finishedAt: tstz(),
    /** Rows due past their time whose work had not started. */
    found: integer().notNull().default(0),
    /** Doorbells rung again. */
    rerung: integer().notNull().default(0),
    /** Expired leases returned to a safe state. */
    leasesReturned: integer().notNull().default(0),
    /** Counts per sweeper name, and each failure's message. */
    details: jsonb()
      .$type<
        Record<string, { found: number; rerung: number; leasesReturned: number; error?: string }>
      >()
      .notNull()
      .default({}),
    /** QStash message id of the doorbell that started the run (null when run by hand). */
    messageId: text(),
  },
  (t) => [
    index('sweep_runs_started_at_idx').on(t.startedAt.desc()),
    // A redelivered sweep doorbell finds its run instead of sweeping twice.
    uniqueIndex('sweep_runs_message_id_key').on(t.messageId).where(sql`${t.messageId} is not null`),
  ],
);
