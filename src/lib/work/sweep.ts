import { and, asc, inArray, lt, or } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import type { Deps } from '../../deps.ts';
import { leaseFree } from './claim.ts';
import { returnAllLeases, returnExpiredLeases } from './reset.ts';
import type { ClaimableTable, SweepCounts, WorkUnits } from './units.ts';

/**
 * Live units due before `before` (or named in `also`) that nobody holds, oldest first, at
 * most `limit`: their doorbell was lost (publish failed, message dropped), a cap held them
 * back, or their holder died and the lease was just returned.
 */
export async function overdueUnits<T extends ClaimableTable>(
  db: Db,
  units: WorkUnits<T>,
  before: Date,
  now: Date,
  options: { also?: string[]; limit?: number } = {},
): Promise<T['$inferSelect'][]> {
  const u = units as unknown as WorkUnits;
  const limit = options.limit ?? u.ringLimit ?? 500;
  const also = options.also ?? [];
  const where = and(
    inArray(u.status, [...u.live]),
    also.length ? or(lt(u.dueAt, before), inArray(u.table.id, also)) : lt(u.dueAt, before),
    u.table.leaseUntil ? leaseFree(u, now) : undefined,
    u.ringWhen,
  );
  // One row per `ringPer` value (a stage's targets ring their stage once), so one large
  // group cannot fill the limit and starve the others.
  const rows = u.ringPer
    ? db
        .selectDistinctOn([u.ringPer])
        .from(u.table)
        .where(where)
        .orderBy(asc(u.ringPer), asc(u.dueAt))
        .limit(limit)
    : db.select().from(u.table).where(where).orderBy(asc(u.dueAt)).limit(limit);
  return rows as Promise<T['$inferSelect'][]>;
}

/**
 * A job's part of the every-minute sweep, and of start-up recovery, as the one sweeper the
 * doorbells callback runs for every job. Must be idempotent: sweeps overlap and doorbells
 * arrive twice (every ring is deduplicated on the minute or the start).
 */
export type Sweeper = {
  name: string;
  sweep(deps: Deps, now: Date): Promise<SweepCounts>;
  /**
   * Once when a single-process (embedded) server starts: every lease in the database was
   * held by the process that stopped, so all are returned at once and what is due now is
   * rung, instead of leaving the work idle until the leases pass.
   */
  recoverAtStart?(deps: Deps, now: Date): Promise<SweepCounts>;
};

/**
 * The sweeper of a job, from its descriptor: (1) the job's upkeep, (2) return passed leases
 * (at start: every lease), (3) ring the returned units and live units overdue by more than
 * the grace (at start: everything due now). A failed publish is logged and left to the
 * next sweep.
 */
export function sweeperOf<T extends ClaimableTable>(units: WorkUnits<T>): Sweeper {
  const u = units as unknown as WorkUnits;
  const pass = async (deps: Deps, now: Date, phase: 'sweep' | 'start'): Promise<SweepCounts> => {
    // Upkeep first: it may end units whose holder died in a job-specific way (a CLI run's
    // start) before the generic return hands them back.
    const extra = u.upkeep ? await u.upkeep(deps, now, phase) : {};
    const returned = u.lease
      ? phase === 'start'
        ? await returnAllLeases(deps.db, u, now)
        : await returnExpiredLeases(deps.db, u, now)
      : [];
    const before =
      phase === 'start' ? new Date(now.getTime() + 1) : new Date(now.getTime() - u.graceMs);
    const overdue = await overdueUnits(deps.db, u, before, now, { also: returned });
    const purpose =
      phase === 'start' ? `start-${now.getTime()}` : `sweep-${Math.floor(now.getTime() / 60_000)}`;
    let rerung = 0;
    const rings = overdue.length ? u.doorbells(overdue, purpose, now) : [];
    if (rings.length)
      try {
        await deps.doorbells.ringMany(rings);
        rerung = overdue.length;
      } catch (err) {
        deps.log.warn('work.sweep_ring_failed', { units: u.name, error: err, count: rings.length });
      }
    return {
      found: overdue.length + (extra.found ?? 0),
      rerung: rerung + (extra.rerung ?? 0),
      leasesReturned: returned.length + (extra.leasesReturned ?? 0),
    };
  };
  return {
    name: u.name,
    sweep: (deps, now) => pass(deps, now, 'sweep'),
    recoverAtStart: (deps, now) => pass(deps, now, 'start'),
  };
}
