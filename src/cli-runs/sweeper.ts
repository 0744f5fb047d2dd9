import { and, eq, inArray, lt, or, sql } from 'drizzle-orm';
import { cliRuns } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import type { Sweeper } from '../doorbells/sweeper.ts';
import { leaseExpired, leaseFree, released } from '../lib/claims.ts';
import { type CliRun, followDoorbell } from './model.ts';

/** How late a poll may be before the sweep assumes its doorbell was lost (s). */
const GRACE_SECONDS = 30;

const STARTER_DIED =
  "The process handling the start stopped before the controller's answer was recorded; the start is sent again with the run's Idempotency-Key to learn what it did.";

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
 * The follow's safety net: a `starting` run whose starter's lease passed (it died or
 * stalled between writing the row and recording the controller's answer) is handed to the
 * follow, which sends the start again with its key (the start may have reached the
 * controller, so the run is never failed for it); an expired follow lease is returned; a
 * run whose follow doorbell is overdue (lost) is rung again: a `starting` one being looked
 * up, a `running` one, or an ended one whose cancel is still owed (`cleanup = 'pending'`).
 */
async function sweep(deps: Deps, now: Date, graceMs: number, purpose: string, allStarts: boolean) {
  const leased = (status: 'starting' | 'running') =>
    and(eq(cliRuns.status, status), allStarts ? undefined : leaseExpired(cliRuns, now));
  const starts = await deps.db
    .update(cliRuns)
    .set({
      ...released,
      lastError: STARTER_DIED,
      nextCheckAt: sql`coalesce(${cliRuns.nextCheckAt}, ${now.toISOString()}::timestamptz)`,
      updatedAt: now,
    })
    .where(leased('starting'))
    .returning();
  const returned = await deps.db
    .update(cliRuns)
    .set({ ...released, updatedAt: now })
    .where(
      or(
        leased('running'),
        and(eq(cliRuns.cleanup, 'pending'), allStarts ? undefined : leaseExpired(cliRuns, now)),
      ),
    )
    .returning({ id: cliRuns.id });
  const handed = new Set(starts.map((r) => r.id));
  const overdue = (
    await deps.db
      .select()
      .from(cliRuns)
      .where(
        and(
          or(inArray(cliRuns.status, ['starting', 'running']), eq(cliRuns.cleanup, 'pending')),
          lt(cliRuns.nextCheckAt, new Date(now.getTime() - graceMs)),
          leaseFree(cliRuns, now),
        ),
      )
      .orderBy(cliRuns.nextCheckAt)
      .limit(500)
  ).filter((r) => !handed.has(r.id));
  const rerung = await ring(deps, [...starts, ...overdue], purpose, now);
  return {
    found: overdue.length + starts.length,
    rerung,
    leasesReturned: returned.length + starts.length,
  };
}

export const cliRunsSweeper: Sweeper = {
  name: 'cli-runs',
  sweep: (deps, now) =>
    sweep(deps, now, GRACE_SECONDS * 1000, `sweep-${Math.floor(now.getTime() / 60_000)}`, false),
  // At start every claim was held by the process that stopped: return them all at once.
  recoverAtStart: (deps, now) => sweep(deps, now, -1, `start-${now.getTime()}`, true),
};
