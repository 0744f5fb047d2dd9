import type { SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../../../db/client.ts';
import type { Ring } from '../../adapters/queue/doorbells.ts';
import type { Deps } from '../../deps.ts';

/**
 * The work-unit engine: the one way every job's units of work (an instance operation, a
 * recovery, a CLI run's follow, an agent session, a notice delivery, a stage's targets) are
 * claimed, owned, renewed, given back and rung again. A job describes its table once with a
 * {@link WorkUnits} descriptor; the verbs in this folder do the rest:
 *
 * | verb | file | what |
 * |---|---|---|
 * | claim | `claim.ts` | one guarded `UPDATE … RETURNING`: a fresh `claim_token`, `claimed_at`, `attempts + 1`, a lease |
 * | guarded write | `write.ts` | every later write of the unit matches `id` and `claim_token`; no row back throws {@link ClaimLost} |
 * | renew | `lease.ts` | pushes the lease on before a long outside call; {@link leaseKeeper} does it ahead of every call of a client |
 * | lease return | `reset.ts` | passed leases go back to the job's safe state, token cleared, so the old holder's writes are refused |
 * | start-up recovery | `reset.ts` | a single-process server returns every lease at start (their holder was the process that stopped) |
 * | ring what is overdue | `sweep.ts` | live units due more than the grace ago and not held are rung again |
 *
 * Modelled on graphile-worker (one `get_job`/`reset_locked` pair for every queue, `locked_by`
 * / `locked_at` / `attempts`; graphile/worker `sql/`), with a token per claim instead of per
 * worker so two claims by one process are told apart, and a lease per unit so a claim may
 * outlive its transaction (the claim commits before the side effect).
 */

/** The columns every claimable table spreads (`db/schema/columns.ts` `claimColumns`). */
export type ClaimableTable = PgTable & {
  id: PgColumn;
  claimToken: PgColumn;
  claimedAt: PgColumn;
  attempts: PgColumn;
  leaseUntil?: PgColumn;
};

/** A holder's proof of ownership: the unit and the token its claim wrote. */
export type Claim = { id: string; claimToken: string | null };

/** A guarded write found another token: the holder lost the unit and must stop. */
export class ClaimLost extends Error {
  constructor(readonly unit: string) {
    super(`lost the claim on ${unit}`);
    this.name = 'ClaimLost';
  }
}

/** What a lease return or a start-up recovery writes, besides clearing the claim. */
export type LeaseReturn = {
  /**
   * Extra SET of a returned unit (drizzle values or `sql` expressions, e.g. a status back
   * to `pending`, a note). `why`: `expired` (the sweep found the lease passed) or `restart`
   * (start-up recovery: the holder was the process that stopped).
   */
  set(now: Date, why: 'expired' | 'restart'): Record<string, unknown>;
  /** Runs in the same transaction with the returned ids (rows of another table that follow). */
  after?(tx: Db, ids: string[], now: Date): Promise<void>;
};

/** Counts a sweep reports per job (stored in `sweep_runs.details`). */
export type SweepCounts = { found: number; rerung: number; leasesReturned: number };

/**
 * A job's description of its units for the engine.
 *
 * @typeParam T the drizzle table; `Row` its selected row.
 */
export type WorkUnits<T extends ClaimableTable = ClaimableTable, Row = T['$inferSelect']> = {
  /** The job's name in logs, `sweep_runs.details` and {@link ClaimLost} messages. */
  name: string;
  table: T;
  /** The status column and the statuses in which a unit is live (claimable, held or waiting). */
  status: PgColumn;
  live: readonly string[];
  /** When the unit's next doorbell is due (`next_attempt_at`, `next_check_at`, `scheduled_at`). */
  dueAt: PgColumn;
  /** How late past {@link dueAt} a live unit may be before the sweep rings it again (ms). */
  graceMs: number;
  /** Narrows which live units the sweep rings (e.g. only `running` CLI runs are followed). */
  ringWhen?: SQL;
  /** The sweep rings one unit per value of this column (the doorbell is per group, e.g. a stage). */
  ringPer?: PgColumn;
  /** The doorbells that ring these units again; `purpose` makes their deduplication ids. */
  doorbells(units: Row[], purpose: string, now: Date): Ring[];
  /**
   * Units whose claim outlives its transaction have a lease (`lease_until`) and say what a
   * returned lease becomes. Units claimed and acted on inside one transaction (a stage's
   * targets, an agent's fire times) have none: a crash rolls the claim back.
   */
  lease?: LeaseReturn;
  /**
   * The job's own upkeep in the same sweep (e.g. firing agents whose doorbell was lost,
   * closing notices their action overtook); its counts are added to the job's.
   */
  upkeep?(deps: Deps, now: Date, phase: 'sweep' | 'start'): Promise<Partial<SweepCounts>>;
  /** How many overdue units one sweep rings at most (default 500; the next sweep goes on). */
  ringLimit?: number;
};

/** Defines a job's descriptor (identity; gives the type its parameters). */
export function workUnits<T extends ClaimableTable, Row = T['$inferSelect']>(
  units: WorkUnits<T, Row>,
): WorkUnits<T, Row> {
  return units;
}

/** The table's lease column, for the verbs that need one. */
export function leaseColumn(units: Pick<WorkUnits, 'name' | 'table'>): PgColumn {
  const lease = units.table.leaseUntil;
  if (!lease) throw new Error(`${units.name}: this table has no lease column`);
  return lease;
}
