import type { Deps } from '../deps.ts';

export type SweepCounts = { found: number; rerung: number; leasesReturned: number };

/**
 * A feature's part of the every-minute sweep: find rows due more than a grace period ago
 * whose work has not started (their doorbell was lost) and ring them again; return rows
 * whose lease expired (a crashed handler) to a safe state. Must be idempotent: sweeps can
 * overlap and doorbells can arrive twice.
 *
 * `recoverAtStart` runs once when a single-process (embedded) server starts: every lease in
 * the database was held by the process that just stopped, so it returns them all at once
 * and rings what is due now, instead of leaving the work idle until the leases pass.
 */
export type Sweeper = {
  name: string;
  sweep(deps: Deps, now: Date): Promise<SweepCounts>;
  recoverAtStart?(deps: Deps, now: Date): Promise<SweepCounts>;
};
