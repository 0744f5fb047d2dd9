import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { recoveries } from '../../db/schema/index.ts';

export type Recovery = typeof recoveries.$inferSelect;
export {
  RECOVERY_CAUSES,
  RECOVERY_STATUSES,
  RECOVERY_STEPS,
  RECOVERY_TRIGGERS,
  RECOVERY_WAITS,
  type RecoveryCause,
  type RecoveryStatus,
  type RecoveryStep,
  type RecoveryTrigger,
  type RecoveryWait,
} from '../../db/schema/index.ts';

/** The doorbell path of the recovery step handler. */
export const RECOVERY_PATH = '/api/callbacks/recovery';
/** The doorbell path of reconcile, rung every minute by a QStash schedule. */
export const RECONCILE_PATH = '/api/callbacks/reconcile';

/** Reconcile's QStash schedule: every minute. */
export const RECONCILE_SCHEDULE = {
  id: 'fleetwarden-reconcile',
  path: RECONCILE_PATH,
  cron: '* * * * *',
} as const;

export const ACTIVE_RECOVERY = ['pending', 'running'] as ('pending' | 'running')[];

/** How long a replacement machine may take to reach `started` (re-waiting on 408). */
export const START_DEADLINE_MS = 10 * 60_000;
/** How long an in-place start may take to reach `started` before relocation. */
export const IN_PLACE_DEADLINE_MS = 2 * 60_000;
/** In-place starts counted against `inPlaceAttempts` within this window. */
export const IN_PLACE_WINDOW_MS = 60 * 60_000;
/** Unhealthy probes in a row before a started machine counts as failed. */
export const MAX_PROBE_FAILURES = 5;

/** Backoff after the n-th failed try of a step: 2 s, 4 s, 8 s, … capped at 1 min. */
export const stepBackoffMs = (failures: number) =>
  Math.min(60_000, 2000 * 2 ** Math.max(0, failures - 1));

/**
 * Pause before the n-th look of a recovery that waits for its host or for capacity: 5 s,
 * 10 s, 20 s, … capped at `maxMs` (`RECOVERY_WAIT_MAX_SECONDS`, default 5 min).
 */
export const waitBackoffMs = (waits: number, maxMs: number) =>
  Math.min(maxMs, 5000 * 2 ** Math.min(20, Math.max(0, waits - 1)));

/**
 * Pause before reconcile resumes a failed recovery for the (n+1)-th time: 1 min, 2 min,
 * 4 min, … capped at `maxMs` (`RECOVERY_RETRY_MAX_SECONDS`, default 1 h). Reconcile runs
 * every minute, so a resume happens at the first run after this.
 */
export const retryBackoffMs = (autoRetries: number, maxMs: number) =>
  Math.min(maxMs, 60_000 * 2 ** Math.min(20, Math.max(0, autoRetries)));

export async function getRecovery(db: Db, id: string): Promise<Recovery | null> {
  const [row] = await db.select().from(recoveries).where(eq(recoveries.id, id));
  return row ?? null;
}

export async function activeRecovery(db: Db, instanceId: string): Promise<Recovery | null> {
  const [row] = await db
    .select()
    .from(recoveries)
    .where(and(eq(recoveries.instanceId, instanceId), inArray(recoveries.status, ACTIVE_RECOVERY)));
  return row ?? null;
}

/**
 * The doorbell for a recovery's next step at `nextAttemptAt`, deduplicated on the claim
 * count it follows (`purpose` tells other rings apart: the sweep's, an early re-ring).
 */
export function recoveryDoorbell(
  r: Pick<Recovery, 'id' | 'attempts' | 'nextAttemptAt'>,
  purpose = `after-${r.attempts}`,
) {
  return {
    path: RECOVERY_PATH,
    body: { recoveryId: r.id },
    notBefore: r.nextAttemptAt,
    deduplicationId: `rec-${r.id}-${purpose}`,
  };
}
