import { and, eq, gt, inArray } from 'drizzle-orm';
import { recoveries } from '../../db/schema/index.ts';
import type { Machine } from '../adapters/fly/types.ts';
import type { Deps } from '../deps.ts';
import { leaseFree } from '../lib/claims.ts';
import { recoveryDoorbell } from './model.ts';

/**
 * Reconcile's part for recoveries waiting for a host: when one app's listing shows the old
 * machine of such a recovery on a host that is `ok` again, the recovery's next look is
 * moved to now and rung, instead of waiting out its backoff. Returns how many were rung.
 * Fly: machines-resource `host_status`.
 */
export async function ringReturnedHosts(
  deps: Pick<Deps, 'db' | 'doorbells' | 'log'>,
  machines: Map<string, Machine>,
  now: Date,
): Promise<number> {
  const waiting = await deps.db
    .select({ id: recoveries.id, oldMachineId: recoveries.oldMachineId })
    .from(recoveries)
    .where(and(eq(recoveries.status, 'pending'), eq(recoveries.waitingFor, 'host_unreachable')));
  const back = waiting
    .filter((r) => r.oldMachineId && machines.get(r.oldMachineId)?.host_status === 'ok')
    .map((r) => r.id);
  if (!back.length) return 0;
  const moved = await deps.db
    .update(recoveries)
    .set({ nextAttemptAt: now, updatedAt: now })
    .where(
      and(
        inArray(recoveries.id, back),
        eq(recoveries.status, 'pending'),
        eq(recoveries.waitingFor, 'host_unreachable'),
        gt(recoveries.nextAttemptAt, now),
        leaseFree(recoveries, now),
      ),
    )
    .returning();
  if (!moved.length) return 0;
  try {
    await deps.doorbells.ringMany(
      moved.map((r) => recoveryDoorbell(r, `host-back-${now.getTime()}`)),
    );
  } catch (err) {
    deps.log.warn('recovery.ring_failed', { count: moved.length, error: err, hint: 'swept later' });
  }
  deps.log.info('recovery.host_back', { recoveryIds: moved.map((r) => r.id) });
  return moved.length;
}
