import { and, eq, isNotNull, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';

/**
 * The one way a unit of work is claimed, owned and given back, shared by every job
 * (operation steps, scheduled targets, and the notice, CLI-run, recovery and cron jobs that
 * follow). The rules:
 *
 * 1. A claim is one guarded statement that sets the unit's state, a fresh random
 *    `claim_token`, `claimed_at`, `lease_until` (when the claim outlives its transaction)
 *    and `attempts + 1`, and returns the rows it took. No row back: someone else has it.
 * 2. The claim commits before any side effect (a Fly call, an email), unless the side
 *    effect is itself a row written in the claiming transaction.
 * 3. Every later write of that unit (outcome, progress, linking, counters, retry) is guarded
 *    on `id` and `claim_token` ({@link heldBy}); a write that matches nothing has lost the
 *    claim and must change nothing else ({@link ClaimLost}).
 * 4. A lease that passed is returned by one guarded statement that also clears the token
 *    ({@link released}), so a stalled holder that wakes up finds its writes refused.
 *
 * Modelled on graphile-worker's `locked_by`/`locked_at` (graphile/worker `sql/`), with a
 * token per claim instead of per worker so two claims by one process are told apart.
 */
export type ClaimableTable = PgTable & {
  id: PgColumn;
  claimToken: PgColumn;
  claimedAt: PgColumn;
  attempts: PgColumn;
  leaseUntil?: PgColumn;
};

/** A holder's proof of ownership: the unit and the token its claim wrote. */
export type Claim = { id: string; claimToken: string | null };

/** A guarded write found another token: the holder lost the unit and must stop. */
export class ClaimLost extends Error {
  constructor(readonly unit: string) {
    super(`lost the claim on ${unit}`);
    this.name = 'ClaimLost';
  }
}

/**
 * The SET part of a claim: a fresh token, `claimed_at` = `now`, `attempts + 1`, and with
 * `leaseMs` a lease until `now + leaseMs` (milliseconds; the app's clock decides).
 */
export function claimSet(table: ClaimableTable, now: Date, leaseMs?: number) {
  return claimSetAt(
    table,
    now,
    leaseMs === undefined ? undefined : new Date(now.getTime() + leaseMs),
  );
}

/**
 * {@link claimSet} with the times given as values or as placeholders (`sql.placeholder`),
 * for a claim built once as a prepared statement.
 */
export function claimSetAt(table: ClaimableTable, now: Date | SQL, leaseUntil?: Date | SQL) {
  return {
    claimToken: sql`gen_random_uuid()`,
    claimedAt: now,
    attempts: sql`${table.attempts} + 1`,
    ...(leaseUntil === undefined ? {} : { leaseUntil }),
  };
}

/** WHERE: the row is still the holder's (same id, same token). */
export function heldBy(table: ClaimableTable, claim: Claim): SQL {
  // A null token is never held: `claim_token = null` matches no row, as it should.
  return and(eq(table.id, claim.id), eq(table.claimToken, claim.claimToken ?? sql`null`)) as SQL;
}

/** WHERE: nobody holds a live lease on the row (never leased, released, or passed). */
export function leaseFree(table: ClaimableTable, now: Date | SQL): SQL {
  const lease = leaseOf(table);
  return or(isNull(lease), lt(lease, now)) as SQL;
}

/** WHERE: a lease was taken and has passed (its holder died or stalled). */
export function leaseExpired(table: ClaimableTable, now: Date): SQL {
  const lease = leaseOf(table);
  return and(isNotNull(lease), lt(lease, now)) as SQL;
}

/** SET: gives the unit back. The token goes too, so the old holder's guarded writes fail. */
export const released = { claimToken: null, leaseUntil: null } as const;

function leaseOf(table: ClaimableTable): PgColumn {
  if (!table.leaseUntil) throw new Error('this table has no lease column');
  return table.leaseUntil;
}

/**
 * The claim's assignments as SQL, for a raw `UPDATE … SET` that claims and writes other
 * columns in the same statement (the column names are the shared ones of
 * {@link ClaimableTable}); `now` is the app's clock.
 */
export function claimAssignments(now: Date): SQL {
  return sql`claim_token = gen_random_uuid(), claimed_at = ${now}::timestamptz, attempts = attempts + 1`;
}
