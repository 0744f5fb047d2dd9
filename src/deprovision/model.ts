import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { instanceDeprovisions } from '../../db/schema/index.ts';

export type Deprovision = typeof instanceDeprovisions.$inferSelect;
export {
  DEPROVISION_STEPS,
  type DeprovisionStep,
  VOLUME_OUTCOMES,
  type VolumeOutcome,
} from '../../db/schema/index.ts';

/** The doorbell path of the deprovision step handler. */
export const DEPROVISION_PATH = '/api/callbacks/instance-deprovisions';

export const LIVE_DEPROVISION = ['pending', 'running'] as const;

/** How often a deprovision looks again while an operation or a recovery step runs (ms). */
export const WAIT_MS = 3_000;

/** Backoff after the n-th failed try of a step: 2 s, 4 s, … capped at 5 min (it never gives up). */
export const stepBackoffMs = (failures: number) =>
  Math.min(5 * 60_000, 2000 * 2 ** Math.min(20, Math.max(0, failures - 1)));

export async function getDeprovision(db: Db, id: string): Promise<Deprovision | null> {
  const [row] = await db.select().from(instanceDeprovisions).where(eq(instanceDeprovisions.id, id));
  return row ?? null;
}

/** The instance's deprovision (there is at most one), or null. */
export async function deprovisionOf(db: Db, instanceId: string): Promise<Deprovision | null> {
  const [row] = await db
    .select()
    .from(instanceDeprovisions)
    .where(eq(instanceDeprovisions.instanceId, instanceId));
  return row ?? null;
}

/**
 * The doorbell for a deprovision's next step at `nextAttemptAt`, deduplicated on the claim
 * count it follows (`purpose` tells other rings apart: the sweep's, an early re-ring).
 */
export function deprovisionDoorbell(
  d: Pick<Deprovision, 'id' | 'attempts' | 'nextAttemptAt'>,
  purpose = `after-${d.attempts}`,
) {
  return {
    path: DEPROVISION_PATH,
    body: { deprovisionId: d.id },
    notBefore: d.nextAttemptAt,
    deduplicationId: `deprovision-${d.id}-${purpose}`,
  };
}
