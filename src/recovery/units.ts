import { recoveries } from '../../db/schema/index.ts';
import { workUnits } from '../lib/work/index.ts';
import { ACTIVE_RECOVERY, recoveryDoorbell } from './model.ts';

/**
 * Recoveries as units of work (src/lib/work): one claim per step with a lease, due at
 * `next_attempt_at`, rung again by the sweep 30 s after they were due. A returned lease
 * (a handler that crashed between its Fly call and its outcome write) puts the recovery back
 * to `pending` in the same step: the step that runs again looks for what the crashed one
 * made (the volume by its name, the machine by its tag) before creating anything.
 */
export const recoveryUnits = workUnits({
  name: 'recoveries',
  table: recoveries,
  status: recoveries.status,
  live: ACTIVE_RECOVERY,
  dueAt: recoveries.nextAttemptAt,
  graceMs: 30_000,
  doorbells: (due, purpose, now) =>
    due.map((r) => ({ ...recoveryDoorbell(r, purpose), notBefore: now })),
  lease: { set: (now) => ({ status: 'pending', updatedAt: now }) },
});
