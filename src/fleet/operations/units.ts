import { instanceOperations } from '../../../db/schema/index.ts';
import { workUnits } from '../../lib/work/index.ts';
import { stepDoorbell } from './model.ts';

/**
 * Instance operations as units of work (src/lib/work): claimed per step with a lease, due at
 * `next_check_at`, rung again by the sweep 30 s after they were due. A returned lease leaves
 * the operation where it was (`pending` or `running` are both claimable): the step that runs
 * again is safe to repeat, an update already made being recognised by its tag on the machine.
 */
export const operationUnits = workUnits({
  name: 'instance-operations',
  table: instanceOperations,
  status: instanceOperations.status,
  live: ['pending', 'running'],
  dueAt: instanceOperations.nextCheckAt,
  graceMs: 30_000,
  doorbells: (ops, purpose, now) =>
    ops.map((op) => ({ ...stepDoorbell(op, purpose), notBefore: now })),
  lease: {
    set: (now, why) => ({
      updatedAt: now,
      lastNote:
        why === 'expired'
          ? 'a handler stopped before finishing; resumed by the sweep'
          : 'the process holding it stopped; resumed at start',
    }),
  },
});
