import { eq, sql } from 'drizzle-orm';
import { cliRuns } from '../../db/schema/index.ts';
import { workUnits } from '../lib/work/index.ts';
import { followDoorbell } from './model.ts';

const STARTER_DIED =
  "The process handling the start stopped before the controller's answer was recorded; the start is sent again with the run's Idempotency-Key to learn what it did.";

/**
 * CLI runs as units of work (src/lib/work): the starter holds a `starting` run with a lease
 * until the controller's answer is recorded; each follow doorbell claims the run with a
 * lease (a `starting` one whose start is being looked up, a `running` one being polled).
 * The sweep rings a run 30 s overdue (its doorbell lost) and returns a passed lease: a
 * `running` run's poll repeats; a `starting` run whose starter died is handed to the follow,
 * due at once, which sends the start again with the run's key — it may have reached the
 * controller, so it is never failed for that (docs/seams.md).
 */
export const cliRunUnits = workUnits({
  name: 'cli-runs',
  table: cliRuns,
  status: cliRuns.status,
  live: ['starting', 'running'],
  dueAt: cliRuns.nextCheckAt,
  graceMs: 30_000,
  doorbells: (runs, purpose, now) =>
    runs.map((r) => ({ ...followDoorbell(r, purpose), notBefore: now })),
  lease: {
    set: (now) => ({
      updatedAt: now,
      // A starter's row has no due time yet: the follow takes it over now.
      nextCheckAt: sql`coalesce(${cliRuns.nextCheckAt}, ${now.toISOString()}::timestamptz)`,
      lastError: sql`case when ${cliRuns.status} = 'starting' then ${STARTER_DIED} else ${cliRuns.lastError} end`,
    }),
  },
});

/**
 * Ended runs that still owe their controller a cancel (`cleanup = 'pending'`,
 * src/cli-runs/cleanup.ts), as units of work on the same table: their follow doorbell claims
 * them with a lease; the sweep rings one 30 s overdue and returns a passed lease (the cancel
 * is sent again). Terminal rows hold no claim otherwise, so only these are returned.
 */
export const cliRunCleanupUnits = workUnits({
  name: 'cli-run-cleanups',
  table: cliRuns,
  status: cliRuns.status,
  live: ['completed', 'failed', 'cancelled'],
  dueAt: cliRuns.nextCheckAt,
  graceMs: 30_000,
  ringWhen: eq(cliRuns.cleanup, 'pending'),
  doorbells: (runs, purpose, now) =>
    runs.map((r) => ({ ...followDoorbell(r, `cleanup-${purpose}`), notBefore: now })),
  lease: { set: (now) => ({ updatedAt: now }) },
});
