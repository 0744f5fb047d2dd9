import { desc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { sweepRuns } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import type { SweepCounts } from '../lib/work/index.ts';

export type SweepRun = typeof sweepRuns.$inferSelect;

/**
 * Runs every sweeper once and records one `sweep_runs` row with the totals and each
 * sweeper's counts (a failing sweeper is recorded and does not stop the others). A sweep
 * started by a doorbell that already ran (same QStash message id) returns that run.
 */
export async function runSweep(deps: Deps, input: { messageId: string | null }): Promise<SweepRun> {
  if (input.messageId) {
    const [done] = await deps.db
      .select()
      .from(sweepRuns)
      .where(eq(sweepRuns.messageId, input.messageId));
    if (done) return done;
  }
  const startedAt = deps.clock.now();
  const details: SweepRun['details'] = {};
  const total: SweepCounts = { found: 0, rerung: 0, leasesReturned: 0 };
  for (const sweeper of deps.sweepers) {
    try {
      const counts = await sweeper.sweep(deps, startedAt);
      details[sweeper.name] = counts;
      total.found += counts.found;
      total.rerung += counts.rerung;
      total.leasesReturned += counts.leasesReturned;
    } catch (err) {
      details[sweeper.name] = {
        found: 0,
        rerung: 0,
        leasesReturned: 0,
        error: err instanceof Error ? err.message : String(err),
      };
      deps.log.error('sweep.sweeper_failed', { sweeper: sweeper.name, error: err });
    }
  }
  const [row] = await deps.db
    .insert(sweepRuns)
    .values({
      startedAt,
      finishedAt: deps.clock.now(),
      ...total,
      details,
      messageId: input.messageId,
    })
    .onConflictDoNothing()
    .returning();
  if (!row) {
    // A concurrent delivery of the same doorbell recorded first.
    const [existing] = await deps.db
      .select()
      .from(sweepRuns)
      .where(eq(sweepRuns.messageId, input.messageId ?? ''));
    if (!existing) throw new Error('sweep run vanished');
    return existing;
  }
  deps.log.info('sweep.run', { ...total, runId: row.id });
  return row;
}

/**
 * Start-up recovery of a single-process server (see {@link Sweeper}): each sweeper's
 * `recoverAtStart`, once; failures are logged and leave the work to the regular sweep.
 */
export async function recoverAtStart(deps: Deps): Promise<SweepCounts> {
  const now = deps.clock.now();
  const total: SweepCounts = { found: 0, rerung: 0, leasesReturned: 0 };
  for (const sweeper of deps.sweepers) {
    if (!sweeper.recoverAtStart) continue;
    try {
      const counts = await sweeper.recoverAtStart(deps, now);
      total.found += counts.found;
      total.rerung += counts.rerung;
      total.leasesReturned += counts.leasesReturned;
    } catch (err) {
      deps.log.error('sweep.recover_at_start_failed', { sweeper: sweeper.name, error: err });
    }
  }
  if (total.leasesReturned || total.rerung) deps.log.info('sweep.recovered_at_start', total);
  return total;
}

export async function recentSweepRuns(db: Db, limit = 20): Promise<SweepRun[]> {
  return db.select().from(sweepRuns).orderBy(desc(sweepRuns.startedAt)).limit(limit);
}

/** The sweep's QStash schedule: every minute. */
export const SWEEP_SCHEDULE = {
  id: 'fleetwarden-sweep',
  path: '/api/callbacks/sweep',
  cron: '* * * * *',
} as const;
