import { sql } from 'drizzle-orm';
import { type Db, queryRows } from './client.ts';
import journal from './migrations/meta/_journal.json' with { type: 'json' };

/** Where drizzle records applied migrations (its default). */
export const MIGRATIONS_SCHEMA = 'drizzle';
export const MIGRATIONS_TABLE = '__drizzle_migrations';

export type MigrationStatus = {
  /** Migrations in this build (from the drizzle-kit journal). */
  expected: number;
  /** Migrations the database has recorded. */
  applied: number;
  /** True when the newest migration of this build has been applied. */
  current: boolean;
};

/**
 * Compares the migrations this build ships with those the database recorded. Works on
 * every runtime: the journal is imported as JSON, nothing is read from disk.
 */
export async function migrationStatus(db: Db): Promise<MigrationStatus> {
  const expected = journal.entries.length;
  const newest = journal.entries.at(-1)?.when ?? 0;
  try {
    const [row] = await queryRows<{ applied: string | number; newest: string | number | null }>(
      db,
      sql`select count(*) as applied, max(created_at) as newest
          from ${sql.identifier(MIGRATIONS_SCHEMA)}.${sql.identifier(MIGRATIONS_TABLE)}`,
    );
    const applied = Number(row?.applied ?? 0);
    return { expected, applied, current: Number(row?.newest ?? 0) >= newest };
  } catch {
    // No migrations table yet: nothing applied.
    return { expected, applied: 0, current: false };
  }
}
