import { and, eq, sql } from 'drizzle-orm';
import { cliRuns } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import { workUnits } from '../lib/work/index.ts';
import { endRun } from './end.ts';
import { followDoorbell } from './model.ts';

const STARTER_DIED =
  'The start did not finish: the process handling it stopped before the controller answered. It may have started on the machine anyway; the next start cancels such a run.';

/**
 * A `starting` run whose starter died (its lease passed; at start-up, every one) is failed
 * with the reason, releasing its instance. Guarded by the starter's claim, so a starter that
 * is only slow and records its answer first wins.
 */
async function failDeadStarts(deps: Deps, now: Date, phase: 'sweep' | 'start') {
  const starts = await deps.db
    .select()
    .from(cliRuns)
    .where(
      and(
        eq(cliRuns.status, 'starting'),
        phase === 'start'
          ? undefined
          : sql`${cliRuns.leaseUntil} < ${now.toISOString()}::timestamptz`,
      ),
    )
    .limit(500);
  let failed = 0;
  for (const run of starts)
    if (
      await endRun(deps.db, run, { status: 'failed', error: STARTER_DIED }, now, { guard: 'claim' })
    )
      failed++;
  return { found: failed, leasesReturned: failed };
}

/**
 * CLI runs as units of work (src/lib/work): the starter holds a `starting` run with a lease
 * until the controller answered; each follow doorbell of a `running` run claims it with a
 * lease. The sweep rings a `running` run whose poll is 30 s overdue (its doorbell lost), and
 * returns a passed follow lease (the run stays `running`, its poll repeats).
 */
export const cliRunUnits = workUnits({
  name: 'cli-runs',
  table: cliRuns,
  status: cliRuns.status,
  live: ['starting', 'running'],
  dueAt: cliRuns.nextCheckAt,
  graceMs: 30_000,
  ringWhen: eq(cliRuns.status, 'running'),
  doorbells: (runs, purpose, now) =>
    runs.map((r) => ({ ...followDoorbell(r, purpose), notBefore: now })),
  lease: { set: (now) => ({ updatedAt: now }) },
  upkeep: failDeadStarts,
});
