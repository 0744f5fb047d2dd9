import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import { type Claim, type ClaimableTable, ClaimLost, type WorkUnits } from './units.ts';

/** WHERE: the unit is still the holder's (same id, same token). */
export function heldBy(table: ClaimableTable, claim: Claim): SQL {
  // A null token is never held: `claim_token = null` matches no row, as it should.
  return and(eq(table.id, claim.id), eq(table.claimToken, claim.claimToken ?? sql`null`)) as SQL;
}

/** SET: gives the unit back. The token goes too, so the old holder's guarded writes fail. */
export function released(table: ClaimableTable) {
  return table.leaseUntil ? { claimToken: null, leaseUntil: null } : { claimToken: null };
}

export type WriteOptions = {
  /** Narrows the guard further (e.g. `status = 'running'`). */
  when?: SQL;
  /** Give the claim back in the same statement. */
  release?: boolean;
};

/**
 * The guarded write every later write of a claimed unit goes through: `UPDATE … SET set
 * WHERE id = claim.id AND claim_token = claim.token [AND when] RETURNING *`. Throws
 * {@link ClaimLost} when no row matched: the holder lost the unit (its lease was returned
 * and someone else claimed it, or it ended) and must change nothing else.
 */
export async function writeHeld<T extends ClaimableTable>(
  db: Db,
  units: WorkUnits<T>,
  claim: Claim,
  set: Record<string, unknown>,
  options: WriteOptions = {},
): Promise<T['$inferSelect']> {
  const table = units.table as ClaimableTable;
  const [row] = await db
    .update(table)
    .set({ ...set, ...(options.release ? released(table) : {}) })
    .where(and(heldBy(table, claim), options.when))
    .returning();
  if (!row) throw new ClaimLost(`${units.name} ${claim.id}`);
  return row as T['$inferSelect'];
}

/**
 * Gives the unit back until `at` (its continuation doorbell rings then): writes `set`, the
 * due time and the release in one guarded statement. {@link ClaimLost} as {@link writeHeld}.
 */
export function handBack<T extends ClaimableTable>(
  db: Db,
  units: WorkUnits<T>,
  claim: Claim,
  at: Date,
  set: Record<string, unknown> = {},
  options: Omit<WriteOptions, 'release'> = {},
): Promise<T['$inferSelect']> {
  return writeHeld(
    db,
    units,
    claim,
    { ...set, [dueKey(units as unknown as WorkUnits)]: at },
    { ...options, release: true },
  );
}

/** The drizzle key of the due column (its property name on the table). */
export function dueKey(units: WorkUnits): string {
  const columns = units.table as unknown as Record<string, unknown>;
  const key = Object.keys(columns).find((k) => columns[k] === units.dueAt);
  if (!key) throw new Error(`${units.name}: dueAt is not a column of its table`);
  return key;
}
