import { and, inArray, isNotNull, lt } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import { type ClaimableTable, leaseColumn, type WorkUnits } from './units.ts';
import { released } from './write.ts';

/**
 * Returns live units whose lease passed (their holder died or stalled) to the job's safe
 * state (`lease.set(now, 'expired')`), clearing the token in the same statement so the old
 * holder's guarded writes are refused; `lease.after` follows in the same transaction.
 * Returns the returned ids.
 */
export function returnExpiredLeases(db: Db, units: WorkUnits, now: Date): Promise<string[]> {
  const lease = leaseColumn(units);
  return returnWhere(db, units, now, 'expired', and(isNotNull(lease), lt(lease, now)));
}

/**
 * Start-up recovery of a single-process server: every live unit still holding a claim was
 * held by the process that stopped, so each is returned now (`lease.set(now, 'restart')`),
 * whatever its lease says. Units without a lease have nothing to return.
 */
export function returnAllLeases(db: Db, units: WorkUnits, now: Date): Promise<string[]> {
  if (!units.lease) return Promise.resolve([]);
  return returnWhere(db, units, now, 'restart', isNotNull(units.table.claimToken));
}

async function returnWhere(
  db: Db,
  units: WorkUnits,
  now: Date,
  why: 'expired' | 'restart',
  where: ReturnType<typeof and>,
): Promise<string[]> {
  const lease = units.lease;
  if (!lease) return [];
  const table = units.table as ClaimableTable;
  const run = async (tx: Db) => {
    const rows = await tx
      .update(table)
      .set({ ...lease.set(now, why), ...released(table) })
      .where(and(inArray(units.status, [...units.live]), where))
      .returning({ id: table.id });
    const ids = rows.map((r) => r.id as string);
    if (ids.length && lease.after) await lease.after(tx, ids, now);
    return ids;
  };
  return lease.after ? db.transaction(run) : run(db);
}
