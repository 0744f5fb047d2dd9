// The fleet's verbs for a deprovision (src/deprovision): how it holds an instance, waits
// for the fleet's own work on it to end, and moves it `destroying → destroyed`. Each takes
// the caller's transaction, so the move commits with the deprovision's own write or not at
// all. Who wins when jobs meet on one instance: docs/seams.md.
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { instanceOperations, instances } from '../../db/schema/index.ts';

/** The instance as a deprovision request sees it (read under its row lock). */
export type DeprovisionTarget = {
  id: string;
  name: string;
  userId: string;
  appName: string;
  status: string;
  machineId: string | null;
  volumeId: string | null;
  holdKind: string | null;
  holdId: string | null;
  /** The operation in flight on it (an immediate action, or a scheduled target's). */
  operation: { id: string; kind: string } | null;
};

/** Locks the instance (`FOR UPDATE`) and reads it with its operation in flight; null: unknown. */
export async function lockForDeprovision(
  tx: Db,
  instanceId: string,
): Promise<DeprovisionTarget | null> {
  await tx
    .select({ id: instances.id })
    .from(instances)
    .where(eq(instances.id, instanceId))
    .for('update');
  // A second statement after the lock sees every operation committed before it was granted.
  const [row] = await tx
    .select({
      id: instances.id,
      name: instances.name,
      userId: instances.userId,
      appName: instances.appName,
      status: instances.status,
      machineId: instances.machineId,
      volumeId: instances.volumeId,
      holdKind: instances.holdKind,
      holdId: instances.holdId,
    })
    .from(instances)
    .where(eq(instances.id, instanceId));
  if (!row) return null;
  const [op] = await tx
    .select({ id: instanceOperations.id, kind: instanceOperations.kind })
    .from(instanceOperations)
    .where(
      and(
        eq(instanceOperations.instanceId, instanceId),
        inArray(instanceOperations.status, ['pending', 'running']),
      ),
    );
  return { ...row, operation: op ?? null };
}

/**
 * Gives the instance's hold to the deprovision `deprovisionId` (a CLI run's hold passes to
 * it: the run's own release, guarded by its id, then changes nothing). From then on the
 * instance refuses new actions, recoveries and CLI runs, and scheduled targets skip it.
 */
export async function holdForDeprovision(
  tx: Db,
  instanceId: string,
  deprovisionId: string,
  now: Date,
): Promise<void> {
  await tx
    .update(instances)
    .set({ holdKind: 'deprovision', holdId: deprovisionId, updatedAt: now })
    .where(eq(instances.id, instanceId));
}

/** What a deprovision still waits for before the instance can be `destroying`. */
export type DestroyingWait =
  | { kind: 'operation'; id: string; what: string }
  | { kind: 'recovery' }
  | { kind: 'lost_hold' };

/**
 * `→ destroying`, once the fleet's own work on the instance has ended: an operation in
 * flight runs to its end, a recovery to its current step (it sees the hold and ends
 * `failed`, "deprovisioned"). Call it with the instance locked ({@link lockForDeprovision}).
 * Returns what it still waits for, or null when the instance is now `destroying` (or
 * already is). The instance's machine and volume are returned as they are now.
 */
export async function beginDestroying(
  tx: Db,
  target: DeprovisionTarget,
  deprovisionId: string,
  now: Date,
): Promise<DestroyingWait | null> {
  if (target.status === 'destroyed') return null;
  if (target.holdId !== deprovisionId) return { kind: 'lost_hold' };
  if (target.status === 'destroying') return null;
  if (target.operation)
    return {
      kind: 'operation',
      id: target.operation.id,
      what: `a ${target.operation.kind.replace('_', ' ')}`,
    };
  if (target.status === 'recovering') return { kind: 'recovery' };
  await tx
    .update(instances)
    .set({ status: 'destroying', updatedAt: now })
    .where(eq(instances.id, target.id));
  return null;
}

/**
 * `destroying → destroyed`, releasing the deprovision's hold. Only from `destroying` with
 * the hold still the deprovision's; false otherwise (already destroyed).
 */
export async function markDestroyed(
  tx: Db,
  instanceId: string,
  deprovisionId: string,
  now: Date,
): Promise<boolean> {
  const rows = await tx
    .update(instances)
    .set({ status: 'destroyed', holdKind: null, holdId: null, lastError: null, updatedAt: now })
    .where(
      and(
        eq(instances.id, instanceId),
        eq(instances.status, 'destroying'),
        eq(instances.holdId, deprovisionId),
      ),
    )
    .returning({ id: instances.id });
  return rows.length > 0;
}
