import { and, inArray, isNotNull, lt } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { recoveries } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import type { Sweeper } from '../doorbells/sweeper.ts';
import { leaseExpired, leaseFree, released } from '../lib/claims.ts';
import { ACTIVE_RECOVERY, type Recovery, recoveryDoorbell } from './model.ts';

/** How late a step may be before the sweep assumes its doorbell was lost (s). */
const GRACE_SECONDS = 30;

async function dueUnheld(db: Db, before: Date, now: Date): Promise<Recovery[]> {
  return db
    .select()
    .from(recoveries)
    .where(
      and(
        inArray(recoveries.status, ACTIVE_RECOVERY),
        lt(recoveries.nextAttemptAt, before),
        leaseFree(recoveries, now),
      ),
    )
    .orderBy(recoveries.nextAttemptAt)
    .limit(500);
}

async function ring(deps: Deps, due: Recovery[], purpose: string, now: Date) {
  if (!due.length) return 0;
  try {
    await deps.doorbells.ringMany(
      due.map((r) => ({ ...recoveryDoorbell(r, purpose), notBefore: now })),
    );
    return due.length;
  } catch (err) {
    deps.log.warn('recovery.sweep_ring_failed', { error: err, count: due.length });
    return 0;
  }
}

/**
 * Recoveries whose doorbell was lost (due over 30 s ago, not held) are rung again; expired
 * leases (a handler that crashed between its Fly call and its outcome write) are returned
 * by one guarded statement that clears the claim token, so the old holder's writes are
 * refused. The step that runs again looks for what the crashed one made before creating.
 */
export const recoverySweeper: Sweeper = {
  name: 'recoveries',
  async sweep(deps, now) {
    const returned = await deps.db
      .update(recoveries)
      .set({ ...released, status: 'pending', updatedAt: now })
      .where(and(inArray(recoveries.status, ACTIVE_RECOVERY), leaseExpired(recoveries, now)))
      .returning({ id: recoveries.id });
    const overdue = await dueUnheld(deps.db, new Date(now.getTime() - GRACE_SECONDS * 1000), now);
    const minute = Math.floor(now.getTime() / 60_000);
    const rerung = await ring(deps, overdue, `sweep-${minute}`, now);
    return { found: overdue.length, rerung, leasesReturned: returned.length };
  },
  async recoverAtStart(deps, now) {
    const returned = await deps.db
      .update(recoveries)
      .set({ ...released, status: 'pending', updatedAt: now })
      .where(and(inArray(recoveries.status, ACTIVE_RECOVERY), isNotNull(recoveries.claimToken)))
      .returning({ id: recoveries.id });
    const due = await dueUnheld(deps.db, new Date(now.getTime() + 1), now);
    const rerung = await ring(deps, due, `start-${now.getTime()}`, now);
    return { found: due.length, rerung, leasesReturned: returned.length };
  },
};
