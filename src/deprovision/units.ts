import { instanceDeprovisions } from '../../db/schema/index.ts';
import { workUnits } from '../lib/work/index.ts';
import { deprovisionDoorbell, LIVE_DEPROVISION } from './model.ts';

/**
 * Deprovisions as units of work (src/lib/work): one claim per step with a lease, due at
 * `next_attempt_at`, rung again by the sweep 30 s after they were due (a retained volume's
 * deletion, due days later, is rung by the sweep too). A returned lease (a handler that
 * crashed between its Fly call and its write) puts the deprovision back to `pending` in the
 * same step: the step that runs again looks at the machine or volume before it calls Fly.
 */
export const deprovisionUnits = workUnits({
  name: 'instance-deprovisions',
  table: instanceDeprovisions,
  status: instanceDeprovisions.status,
  live: LIVE_DEPROVISION,
  dueAt: instanceDeprovisions.nextAttemptAt,
  graceMs: 30_000,
  doorbells: (due, purpose, now) =>
    due.map((d) => ({ ...deprovisionDoorbell(d, purpose), notBefore: now })),
  lease: {
    set: (now, why) => ({
      status: 'pending',
      updatedAt: now,
      lastNote:
        why === 'expired'
          ? 'a handler stopped before finishing; resumed by the sweep'
          : 'the process holding it stopped; resumed at start',
    }),
  },
});
