import { and, asc, eq, gt, lte } from 'drizzle-orm';
import { recoveries } from '../../db/schema/index.ts';
import { type Deps, SYSTEM_ACTOR } from '../deps.ts';
import { lockForRecovery, operationRequestedSince } from '../fleet/recovery-moves.ts';
import { isUniqueViolation } from '../lib/pg-errors.ts';
import type { Recovery } from './model.ts';
import { resumeFailed } from './retry.ts';

/** Failed recoveries resumed by one reconcile run at most (the rest wait for the next). */
const PER_RUN = 50;

/**
 * Reconcile's part for failed recoveries: each whose `retry_at` has come (set when it
 * failed, `retryBackoffMs`) is resumed as an admin's Retry would, as the system, when its
 * instance is still `stopped` and should run: it is the newest recovery of the instance and
 * nobody asked for an action on the instance since it failed. One whose instance has moved
 * on (started, destroyed, another recovery) loses its `retry_at`; one whose instance is busy
 * for now keeps it and is looked at again by the next run. Each is one transaction (the
 * recovery row, then the instance, locked as the admin's retry locks them), so concurrent
 * runs resume it once. Returns the resumed rows, for their first doorbell, and errors.
 */
export async function resumeDueFailures(
  deps: Pick<Deps, 'db' | 'log'>,
  now: Date,
): Promise<{ resumed: Recovery[]; errors: string[] }> {
  const due = await deps.db
    .select({ id: recoveries.id })
    .from(recoveries)
    .where(and(eq(recoveries.status, 'failed'), lte(recoveries.retryAt, now)))
    .orderBy(asc(recoveries.retryAt))
    .limit(PER_RUN);
  const resumed: Recovery[] = [];
  const errors: string[] = [];
  for (const { id } of due) {
    try {
      const row = await deps.db.transaction(async (tx) => {
        const [r] = await tx.select().from(recoveries).where(eq(recoveries.id, id)).for('update');
        if (r?.status !== 'failed' || !r.retryAt || r.retryAt > now) return null;
        const drop = async (why: string) => {
          await tx.update(recoveries).set({ retryAt: null }).where(eq(recoveries.id, id));
          deps.log.info('recovery.resume_dropped', { recoveryId: id, why });
          return null;
        };
        const [newer] = await tx
          .select({ id: recoveries.id })
          .from(recoveries)
          .where(and(eq(recoveries.instanceId, r.instanceId), gt(recoveries.seq, r.seq)))
          .limit(1);
        if (newer) return drop('a newer recovery of the instance exists');
        if (r.endedAt && (await operationRequestedSince(tx, r.instanceId, r.endedAt)))
          return drop('an action on the instance was asked for since');
        const locked = await lockForRecovery(tx, r.instanceId, ['stopped']);
        if (!locked.ok)
          return locked.reason === 'busy'
            ? null
            : drop(`the instance is ${locked.status ?? locked.reason}`);
        return resumeFailed(tx, r, { now, actor: SYSTEM_ACTOR, auto: true });
      });
      if (row) {
        resumed.push(row);
        deps.log.info('recovery.resumed', {
          recoveryId: row.id,
          instanceId: row.instanceId,
          autoRetries: row.autoRetries,
          step: row.step,
        });
      }
    } catch (err) {
      // Another recovery of the instance became active meanwhile: this one stays failed.
      if (isUniqueViolation(err)) continue;
      errors.push(`recovery ${id}: ${(err as Error).message}`);
      deps.log.error('recovery.resume_failed', { recoveryId: id, error: err });
    }
  }
  return { resumed, errors };
}
