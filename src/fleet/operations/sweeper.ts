import { and, inArray, lt } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import { instanceOperations } from '../../../db/schema/index.ts';
import type { Deps } from '../../deps.ts';
import type { Sweeper } from '../../doorbells/sweeper.ts';
import { leaseExpired, leaseFree, released } from '../../lib/claims.ts';
import { type Operation, stepDoorbell } from './model.ts';
import { releaseAllClaims } from './store.ts';

/** How late a step may be before the sweep assumes its doorbell was lost (s). */
const GRACE_SECONDS = 30;
const ACTIVE = ['pending', 'running'] as ('pending' | 'running')[];

/** Active operations due before `before` that nobody holds, oldest first. */
async function dueUnheld(db: Db, before: Date, now: Date): Promise<Operation[]> {
  return db
    .select()
    .from(instanceOperations)
    .where(
      and(
        inArray(instanceOperations.status, ACTIVE),
        lt(instanceOperations.nextCheckAt, before),
        leaseFree(instanceOperations, now),
      ),
    )
    .orderBy(instanceOperations.nextCheckAt)
    .limit(500);
}

async function ring(deps: Deps, ops: Operation[], purpose: string, now: Date): Promise<number> {
  if (!ops.length) return 0;
  try {
    await deps.doorbells.ringMany(
      ops.map((op) => ({ ...stepDoorbell(op, purpose), notBefore: now })),
    );
    return ops.length;
  } catch (err) {
    deps.log.warn('operation.sweep_ring_failed', { error: err, count: ops.length });
    return 0;
  }
}

/**
 * Immediate actions whose doorbell was lost (due over 30 s ago, not held) are rung again;
 * expired leases (a crashed or stalled handler) are returned by one guarded statement that
 * also clears the claim token, so the old holder's writes are refused. The step itself is
 * safe to repeat: an update already made is recognised by its tag on the machine.
 */
export const operationsSweeper: Sweeper = {
  name: 'instance-operations',
  async sweep(deps: Deps, now: Date) {
    const returned = await deps.db
      .update(instanceOperations)
      .set({
        ...released,
        updatedAt: now,
        lastNote: 'a handler stopped before finishing; resumed by the sweep',
      })
      .where(and(inArray(instanceOperations.status, ACTIVE), leaseExpired(instanceOperations, now)))
      .returning({ id: instanceOperations.id });
    const overdue = await dueUnheld(deps.db, new Date(now.getTime() - GRACE_SECONDS * 1000), now);
    const minute = Math.floor(now.getTime() / 60_000);
    const rerung = await ring(deps, overdue, `sweep-${minute}`, now);
    return { found: overdue.length, rerung, leasesReturned: returned.length };
  },
  async recoverAtStart(deps: Deps, now: Date) {
    const returned = await releaseAllClaims(deps.db, now);
    const due = await dueUnheld(deps.db, new Date(now.getTime() + 1), now);
    const rerung = await ring(deps, due, `start-${now.getTime()}`, now);
    return { found: due.length, rerung, leasesReturned: returned };
  },
};
