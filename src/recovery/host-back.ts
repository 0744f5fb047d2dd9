import { and, eq } from 'drizzle-orm';
import { recoveries } from '../../db/schema/index.ts';
import type { Machine } from '../adapters/fly/types.ts';
import type { Deps } from '../deps.ts';
import { expediteUnits } from '../lib/work/index.ts';
import { recoveryUnits } from './units.ts';

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
  const moved = await expediteUnits(deps, recoveryUnits, back, now, {
    when: and(eq(recoveries.status, 'pending'), eq(recoveries.waitingFor, 'host_unreachable')),
    purpose: `host-back-${now.getTime()}`,
    set: { updatedAt: now },
  });
  if (moved.length) deps.log.info('recovery.host_back', { recoveryIds: moved });
  return moved.length;
}
