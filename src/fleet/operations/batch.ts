import { and, asc, eq, inArray, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import {
  instanceEvents,
  instanceOperations,
  instances,
  type OperationKind,
  versionPins,
} from '../../../db/schema/index.ts';
import type { Actor } from '../../deps.ts';
import { BUSY_STATUSES, DEADLINE_MS, type Operation } from './model.ts';

/** What an action on an instance must know of it, read under the instance's row lock. */
export type LockedInstance = {
  id: string;
  status: string;
  imageTag: string | null;
  machineId: string | null;
  /** The image the instance is pinned to, if any. */
  pinnedImageTag: string | null;
  /** Another operation is pending or running on it. */
  busyWithOperation: boolean;
  /** Another feature's hold (src/fleet/holds.ts), e.g. a live CLI run. */
  holdKind: string | null;
  holdId: string | null;
};

/**
 * Locks instances (`FOR UPDATE`, in id order, so concurrent callers never deadlock) and
 * reads what deciding an action on each needs, in one statement. Missing ids are absent
 * from the map; with `skipLocked`, so are instances another transaction holds (the caller
 * never waits). Call inside the transaction that will insert their operations.
 */
export async function lockInstances(
  tx: Db,
  ids: string[],
  options: { skipLocked?: boolean } = {},
): Promise<Map<string, LockedInstance>> {
  if (!ids.length) return new Map();
  const rows = await tx
    .select({
      id: instances.id,
      status: instances.status,
      imageTag: instances.imageTag,
      machineId: instances.machineId,
      pinnedImageTag: versionPins.imageTag,
      holdKind: instances.holdKind,
      holdId: instances.holdId,
      busyWithOperation: sql<boolean>`exists (select 1 from ${instanceOperations} where ${instanceOperations.instanceId} = ${instances.id} and ${instanceOperations.status} in ('pending', 'running'))`,
    })
    .from(instances)
    .leftJoin(versionPins, eq(versionPins.instanceId, instances.id))
    .where(inArray(instances.id, ids))
    .orderBy(asc(instances.id))
    .for('update', options.skipLocked ? { of: instances, skipLocked: true } : { of: instances });
  return new Map(rows.map((r) => [r.id, r]));
}

/** Which of `ids` are instances (read without locking: for ids a skip-locked read left out). */
export async function existingInstances(tx: Db, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await tx
    .select({ id: instances.id })
    .from(instances)
    .where(inArray(instances.id, ids));
  return new Set(rows.map((r) => r.id));
}

/**
 * A locked instance is busy: an operation runs on it, something holds it (a live CLI run),
 * its status rejects actions, or it has no machine.
 */
export const isBusy = (i: LockedInstance) =>
  i.busyWithOperation ||
  i.holdId !== null ||
  (BUSY_STATUSES as readonly string[]).includes(i.status) ||
  !i.machineId;

/**
 * The state the machine must end in: stopped for a stop, and for a version change of a
 * stopped instance (Fly's update leaves a stopped machine stopped); started otherwise.
 */
export function expectedStateFor(kind: OperationKind, instanceStatus: string) {
  if (kind === 'stop') return 'stopped' as const;
  if (kind === 'version_change' && instanceStatus === 'stopped') return 'stopped' as const;
  return 'started' as const;
}

export type OperationRequestRow = {
  instance: { id: string; imageTag: string | null; status: string };
  kind: OperationKind;
  targetImageTag: string | null;
  actor: Actor;
  eventPayload?: Record<string, unknown>;
};

/**
 * Inserts operations for instances the caller has checked (and locked) in three statements
 * whatever their number: the operations (an instance that already has an active one is
 * left out, by the partial unique index, instead of failing the batch), the move of updated
 * instances to `restarting`, and one timeline event each. Returns the created operations by
 * instance id; a missing one was busy.
 */
export async function insertOperations(
  tx: Db,
  requests: OperationRequestRow[],
  now: Date,
): Promise<Map<string, Operation>> {
  if (!requests.length) return new Map();
  const created = await tx
    .insert(instanceOperations)
    .values(
      requests.map((r) => ({
        instanceId: r.instance.id,
        kind: r.kind,
        fromImageTag: r.instance.imageTag,
        targetImageTag: r.targetImageTag,
        expectedState: expectedStateFor(r.kind, r.instance.status),
        requestedBy: r.actor.label,
        nextCheckAt: now,
        deadlineAt: new Date(now.getTime() + DEADLINE_MS[r.kind]),
        createdAt: now,
        updatedAt: now,
      })),
    )
    .onConflictDoNothing({
      target: instanceOperations.instanceId,
      where: sql`${instanceOperations.status} in ('pending', 'running')`,
    })
    .returning();
  const byInstance = new Map(created.map((op) => [op.instanceId, op]));
  // Updates of a running machine restart it; a stopped machine's version change does not.
  const restarting = created
    .filter(
      (op) =>
        (op.kind === 'restart' || op.kind === 'version_change') && op.expectedState === 'started',
    )
    .map((op) => op.instanceId);
  if (restarting.length)
    await tx
      .update(instances)
      .set({ status: 'restarting', updatedAt: now })
      .where(
        and(inArray(instances.id, restarting), notInArray(instances.status, [...BUSY_STATUSES])),
      );
  const events = requests.flatMap((r) => {
    const op = byInstance.get(r.instance.id);
    return op
      ? [
          {
            instanceId: r.instance.id,
            type: `${r.kind}_requested`,
            actorLabel: r.actor.label,
            payload: {
              operationId: op.id,
              from: r.instance.imageTag,
              to: r.targetImageTag,
              ...r.eventPayload,
            },
            at: now,
          },
        ]
      : [];
  });
  if (events.length) await tx.insert(instanceEvents).values(events);
  return byInstance;
}
