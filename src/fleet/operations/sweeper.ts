import { and, inArray, isNotNull, isNull, lt, or } from 'drizzle-orm';
import { instanceOperations } from '../../../db/schema/index.ts';
import type { Deps } from '../../deps.ts';
import type { Sweeper } from '../../doorbells/sweeper.ts';
import { type Operation, stepDoorbell } from './model.ts';

/** How late a step may be before the sweep assumes its doorbell was lost (s). */
const GRACE_SECONDS = 30;

/**
 * Immediate actions whose doorbell was lost (due over 30 s ago, not held) are rung again;
 * leases left by a crashed handler are released so the next doorbell can claim the step.
 * The step itself is safe to repeat: an update already made is recognised by version.
 */
export const operationsSweeper: Sweeper = {
  name: 'instance-operations',
  async sweep(deps: Deps, now: Date) {
    const released = await deps.db
      .update(instanceOperations)
      .set({
        leaseUntil: null,
        leaseToken: null,
        updatedAt: now,
        lastNote: 'a handler stopped before finishing; resumed by the sweep',
      })
      .where(
        and(
          inArray(instanceOperations.status, ['pending', 'running']),
          isNotNull(instanceOperations.leaseUntil),
          lt(instanceOperations.leaseUntil, now),
        ),
      )
      .returning({ id: instanceOperations.id });
    const overdue: Operation[] = await deps.db
      .select()
      .from(instanceOperations)
      .where(
        and(
          inArray(instanceOperations.status, ['pending', 'running']),
          lt(instanceOperations.nextCheckAt, new Date(now.getTime() - GRACE_SECONDS * 1000)),
          or(isNull(instanceOperations.leaseUntil), lt(instanceOperations.leaseUntil, now)),
        ),
      )
      .orderBy(instanceOperations.nextCheckAt)
      .limit(500);
    let rerung = 0;
    if (overdue.length) {
      const minute = Math.floor(now.getTime() / 60_000);
      try {
        await deps.doorbells.ringMany(
          overdue.map((op) => ({ ...stepDoorbell(op, `-sweep-${minute}`), notBefore: now })),
        );
        rerung = overdue.length;
      } catch (err) {
        deps.log.warn('operation.sweep_ring_failed', { error: err, count: overdue.length });
      }
    }
    return { found: overdue.length, rerung, leasesReturned: released.length };
  },
};
