import { and, desc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import { instanceOperations, type OperationKind } from '../../../db/schema/index.ts';

export type Operation = typeof instanceOperations.$inferSelect;

/** Instance states that reject any other action until they finish. */
export const BUSY_STATUSES = ['provisioning', 'restarting', 'recovering', 'destroying'] as const;

/** How long an action may take before it fails, from the request (ms). */
export const DEADLINE_MS: Record<OperationKind, number> = {
  provision: 10 * 60_000,
  restart: 5 * 60_000,
  version_change: 5 * 60_000,
  start: 5 * 60_000,
  stop: 2 * 60_000,
};

/** The doorbell path of the step handler. */
export const OPERATIONS_PATH = '/api/callbacks/instance-operations';

export async function getOperation(db: Db, id: string): Promise<Operation | null> {
  const [row] = await db.select().from(instanceOperations).where(eq(instanceOperations.id, id));
  return row ?? null;
}

export async function activeOperation(db: Db, instanceId: string): Promise<Operation | null> {
  const [row] = await db
    .select()
    .from(instanceOperations)
    .where(
      and(
        eq(instanceOperations.instanceId, instanceId),
        inArray(instanceOperations.status, ['pending', 'running']),
      ),
    );
  return row ?? null;
}

export async function recentOperations(
  db: Db,
  instanceId: string,
  limit = 10,
): Promise<Operation[]> {
  return db
    .select()
    .from(instanceOperations)
    .where(eq(instanceOperations.instanceId, instanceId))
    .orderBy(desc(instanceOperations.seq))
    .limit(limit);
}

/**
 * The doorbell for an operation's next step, for its `nextCheckAt`. Its deduplication id
 * names what it is for: the step after claim number `attempts` (`purpose` tells other rings
 * apart, e.g. a re-ring of an early delivery or the sweep's).
 */
export function stepDoorbell(
  op: Pick<Operation, 'id' | 'attempts' | 'nextCheckAt'>,
  purpose = `after-${op.attempts}`,
) {
  return {
    path: OPERATIONS_PATH,
    body: { operationId: op.id },
    notBefore: op.nextCheckAt,
    deduplicationId: `op-${op.id}-${purpose}`,
  };
}
