import { and, eq, inArray, isNull, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Db } from '../../../db/client.ts';
import { type ClaimableTable, leaseColumn, type WorkUnits } from './units.ts';

/** A time given as a value (the app's clock) or as SQL (a prepared statement's placeholder). */
export type At = Date | SQL;

export type ClaimOptions = {
  /** The claim's instant: `claimed_at`, and the due and lease checks (the app's clock decides). */
  now: At;
  /** Until when the claim may act; required for units with a lease, ignored without one. */
  leaseUntil?: At;
  /** Narrows which live units may be claimed (e.g. `status = 'creating'`). */
  when?: SQL;
  /** Other columns the claim writes in the same statement (e.g. `status: 'running'`). */
  set?: Record<string, unknown>;
  /** Claim only when due (`dueAt <= now`); default true. */
  due?: boolean;
  /**
   * The statuses this claim may take, instead of the descriptor's `live` (a CLI run's follow
   * also takes an ended run whose cancel is still owed).
   */
  statuses?: readonly string[];
};

/**
 * The SET of a claim: a fresh random `claim_token`, `claimed_at = now`, `attempts + 1`, and
 * with `leaseUntil` the lease. Exposed for statements that claim many units with other
 * tables in one query (notice batches); everything else calls {@link claimUnit}.
 */
export function claimSet(table: ClaimableTable, now: At, leaseUntil?: At) {
  return {
    claimToken: sql`gen_random_uuid()`,
    claimedAt: now,
    attempts: sql`${table.attempts} + 1`,
    ...(leaseUntil === undefined || !table.leaseUntil ? {} : { leaseUntil }),
  };
}

/** WHERE: nobody holds a live lease on the unit (never leased, given back, or passed). */
export function leaseFree(units: Pick<WorkUnits, 'name' | 'table'>, now: At): SQL {
  const lease = leaseColumn(units);
  return or(isNull(lease), lt(lease, now)) as SQL;
}

/** WHERE of a claim of unit `id`: live, due, not leased by a live holder, and `when`. */
export function claimable(units: WorkUnits, id: string | SQL, options: ClaimOptions): SQL {
  return and(
    eq(units.table.id, id),
    inArray(units.status, [...(options.statuses ?? units.live)]),
    options.due === false ? undefined : lte(units.dueAt, options.now),
    units.table.leaseUntil ? leaseFree(units, options.now) : undefined,
    options.when,
  ) as SQL;
}

/**
 * The claim as a drizzle statement (`UPDATE … SET claim … WHERE claimable … RETURNING *`),
 * for a caller that reads other tables in the same statement (`db.$with('claimed').as(…)`)
 * or prepares it once. Most callers use {@link claimUnit}.
 */
export function claimStatement<T extends ClaimableTable>(
  db: Db,
  units: WorkUnits<T>,
  id: string | SQL,
  options: ClaimOptions,
) {
  if (units.table.leaseUntil && options.leaseUntil === undefined)
    throw new Error(`${units.name}: a claim of a leased unit needs leaseUntil`);
  const set = { ...options.set, ...claimSet(units.table, options.now, options.leaseUntil) };
  return db
    .update(units.table)
    .set(set as PgUpdateSetSource<T>)
    .where(claimable(units as unknown as WorkUnits, id, options))
    .returning();
}

/**
 * Claims unit `id` in one guarded statement, committed by the caller before any side effect
 * (rule: a side effect follows a committed claim). Returns the claimed row, or null when
 * there is nothing to claim: unknown, no longer live, not due, or held by a live lease.
 */
export async function claimUnit<T extends ClaimableTable>(
  db: Db,
  units: WorkUnits<T>,
  id: string,
  options: ClaimOptions,
): Promise<T['$inferSelect'] | null> {
  const rows = (await claimStatement(db, units, id, options)) as unknown as T['$inferSelect'][];
  return rows[0] ?? null;
}

/** `now + ms` as a Date (lease ends are computed on the app's clock). */
export const later = (now: Date, ms: number) => new Date(now.getTime() + ms);

/**
 * {@link claimSet} as raw SQL assignments, for one `UPDATE … FROM (values …)` that claims
 * many units with other columns (a stage's chunk of targets, a batch of notice
 * deliveries). The names are those `claimColumns()`/`leaseColumn()` give every claimable
 * table (db/schema/columns.ts). `now` and `leaseUntil` are the app's clock.
 */
export function claimAssignments(now: Date, leaseUntil?: Date): SQL {
  const lease =
    leaseUntil === undefined
      ? sql``
      : sql`, lease_until = ${leaseUntil.toISOString()}::timestamptz`;
  return sql`claim_token = gen_random_uuid(), claimed_at = ${now.toISOString()}::timestamptz, attempts = attempts + 1${lease}`;
}
