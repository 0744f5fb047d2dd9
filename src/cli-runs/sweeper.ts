import { and, eq, inArray, lt } from 'drizzle-orm';
import { cliRuns } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import type { Sweeper } from '../doorbells/sweeper.ts';
import { leaseExpired, leaseFree, released } from '../lib/claims.ts';
import { endRun } from './end.ts';
import { type CliRun, followDoorbell } from './model.ts';

/** How late a poll may be before the sweep assumes its doorbell was lost (s). */
const GRACE_SECONDS = 30;

const STARTER_DIED =
  'The start did not finish: the process handling it stopped before the controller answered. It may have started on the machine anyway; the next start cancels such a run.';

async function ring(deps: Deps, runs: CliRun[], purpose: string, now: Date) {
  if (!runs.length) return 0;
  try {
    await deps.doorbells.ringMany(
      runs.map((r) => ({ ...followDoorbell(r, purpose), notBefore: now })),
    );
    return runs.length;
  } catch (err) {
    deps.log.warn('cli_run.sweep_ring_failed', { error: err, count: runs.length });
    return 0;
  }
}

/**
 * The follow's safety net: a `starting` run whose starter's lease passed (it died between
 * writing the row and the controller's answer) is failed with the reason, releasing its
 * instance; a `running` run's expired follow lease is returned; a `running` run whose poll
 * is overdue (its doorbell lost) is rung again.
 */
async function sweep(deps: Deps, now: Date, graceMs: number, purpose: string, allStarts: boolean) {
  const starts = await deps.db
    .select()
    .from(cliRuns)
    .where(and(eq(cliRuns.status, 'starting'), allStarts ? undefined : leaseExpired(cliRuns, now)))
    .limit(500);
  let failed = 0;
  for (const run of starts)
    if (
      await endRun(deps.db, run, { status: 'failed', error: STARTER_DIED }, now, { guard: 'claim' })
    )
      failed++;
  const returned = await deps.db
    .update(cliRuns)
    .set({ ...released, updatedAt: now })
    .where(and(eq(cliRuns.status, 'running'), allStarts ? undefined : leaseExpired(cliRuns, now)))
    .returning({ id: cliRuns.id });
  const overdue = await deps.db
    .select()
    .from(cliRuns)
    .where(
      and(
        inArray(cliRuns.status, ['running']),
        lt(cliRuns.nextCheckAt, new Date(now.getTime() - graceMs)),
        leaseFree(cliRuns, now),
      ),
    )
    .orderBy(cliRuns.nextCheckAt)
    .limit(500);
  const rerung = await ring(deps, overdue, purpose, now);
  return { found: overdue.length + failed, rerung, leasesReturned: returned.length + failed };
}

export const cliRunsSweeper: Sweeper = {
  name: 'cli-runs',
  sweep: (deps, now) =>
    sweep(deps, now, GRACE_SECONDS * 1000, `sweep-${Math.floor(now.getTime() / 60_000)}`, false),
  // At start every claim was held by the process that stopped: return them all at once.
  recoverAtStart: (deps, now) => sweep(deps, now, -1, `start-${now.getTime()}`, true),
};
