// The fleet's verbs for recovery (src/recovery): how a recovery reads and moves an
// instance. Each takes the caller's transaction, so the move commits with the recovery's
// own guarded write or not at all.
import { and, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { instanceOperations, instances, versionPins } from '../../db/schema/index.ts';
import { BUSY_STATUSES } from './operations/model.ts';

export type RecoverableInstance = {
  id: string;
  name: string;
  appName: string;
  region: string;
  status: string;
  machineId: string | null;
  volumeId: string | null;
  imageTag: string | null;
  pinnedImageTag: string | null;
  /** True once the instance's deprovision holds it: a recovery step in flight is its last. */
  deprovisioning?: boolean;
};

export type LockResult =
  | { ok: true; instance: RecoverableInstance }
  | { ok: false; reason: 'unknown' | 'busy' | 'not_recoverable'; status?: string };

/**
 * Locks the instance (`FOR UPDATE`) and checks it may begin a recovery: it exists, is in
 * one of `statuses`, is not busy (provisioning, restarting, recovering, destroying), is not
 * held by another feature (a live CLI run, src/fleet/holds.ts) and has no action in flight. Operations lock the same row before they start, so the two
 * cannot both begin.
 */
export async function lockForRecovery(
  tx: Db,
  instanceId: string,
  statuses: readonly string[],
): Promise<LockResult> {
  const [row] = await tx
    .select({
      id: instances.id,
      name: instances.name,
      appName: instances.appName,
      region: instances.region,
      status: instances.status,
      machineId: instances.machineId,
      volumeId: instances.volumeId,
      imageTag: instances.imageTag,
      holdId: instances.holdId,
    })
    .from(instances)
    .where(eq(instances.id, instanceId))
    .for('update');
  if (!row) return { ok: false, reason: 'unknown' };
  // Another feature's live work (a CLI run) holds it: an admin's recovery waits for it (or
  // cancels it first); reconcile ends it before it gets here when the machine is lost
  // (src/fleet/machine-lost.ts, docs/seams.md).
  if (row.holdId) return { ok: false, reason: 'busy', status: row.status };
  if ((BUSY_STATUSES as readonly string[]).includes(row.status))
    return { ok: false, reason: 'busy', status: row.status };
  if (!statuses.includes(row.status))
    return { ok: false, reason: 'not_recoverable', status: row.status };
  const [op] = await tx
    .select({ id: instanceOperations.id })
    .from(instanceOperations)
    .where(
      and(
        eq(instanceOperations.instanceId, instanceId),
        inArray(instanceOperations.status, ['pending', 'running']),
      ),
    );
  if (op) return { ok: false, reason: 'busy', status: row.status };
  const [pin] = await tx
    .select({ imageTag: versionPins.imageTag })
    .from(versionPins)
    .where(eq(versionPins.instanceId, instanceId));
  const { holdId: _, ...instance } = row;
  return { ok: true, instance: { ...instance, pinnedImageTag: pin?.imageTag ?? null } };
}

/**
 * Whether anyone asked for an action on the instance (start, stop, restart, …) after
 * `since`: then a failed recovery is theirs to follow up, not reconcile's to resume.
 */
export async function operationRequestedSince(
  tx: Db,
  instanceId: string,
  since: Date,
): Promise<boolean> {
  const [op] = await tx
    .select({ id: instanceOperations.id })
    .from(instanceOperations)
    .where(
      and(eq(instanceOperations.instanceId, instanceId), gt(instanceOperations.createdAt, since)),
    )
    .limit(1);
  return Boolean(op);
}

/** `→ recovering` (the instance rejects other actions until the recovery ends). */
export async function markRecovering(tx: Db, instanceId: string, now: Date): Promise<void> {
  await tx
    .update(instances)
    .set({ status: 'recovering', updatedAt: now })
    .where(eq(instances.id, instanceId));
}

/**
 * The cut-over: the instance names the replacement machine, volume and region and is
 * `running` again. Only from `recovering`; false when the instance is no longer there.
 */
export async function cutOverInstance(
  tx: Db,
  instanceId: string,
  to: { machineId: string; volumeId: string; region: string; machineVersion: string | null },
  now: Date,
): Promise<boolean> {
  const rows = await tx
    .update(instances)
    .set({ ...to, status: 'running', lastError: null, updatedAt: now })
    .where(and(eq(instances.id, instanceId), eq(instances.status, 'recovering')))
    .returning({ id: instances.id });
  return rows.length > 0;
}

/**
 * Ends a recovery on its instance: `running` again when the old machine came back (its
 * version recorded), or `stopped` with the reason shown on its page.
 */
export async function endRecoveryOnInstance(
  tx: Db,
  instanceId: string,
  result: { ok: true; machineVersion: string | null } | { ok: false; error: string },
  now: Date,
): Promise<void> {
  await tx
    .update(instances)
    .set(
      result.ok
        ? {
            status: 'running',
            lastError: null,
            updatedAt: now,
            ...(result.machineVersion ? { machineVersion: result.machineVersion } : {}),
          }
        : { status: 'stopped', lastError: result.error, updatedAt: now },
    )
    .where(and(eq(instances.id, instanceId), eq(instances.status, 'recovering')));
}

/** What reconcile compares with Fly: one app's live instances and whether each is busy. */
export type ReconcileInstance = {
  id: string;
  name: string;
  status: string;
  machineId: string | null;
  imageTag: string | null;
  busyWithOperation: boolean;
};

export async function instancesOfApp(db: Db, appName: string): Promise<ReconcileInstance[]> {
  return db
    .select({
      id: instances.id,
      name: instances.name,
      status: instances.status,
      machineId: instances.machineId,
      imageTag: instances.imageTag,
      busyWithOperation: sql<boolean>`exists (select 1 from ${instanceOperations} o where o.instance_id = ${instances.id} and o.status in ('pending', 'running'))`,
    })
    .from(instances)
    .where(
      and(
        eq(instances.appName, appName),
        inArray(instances.status, ['running', 'stopped']),
        // An instance its deprovision holds is being destroyed, not recovered (docs/seams.md).
        sql`${instances.holdKind} is distinct from 'deprovision'`,
      ),
    );
}

/** The Fly apps that hold live instances (reconcile lists each once). */
export async function appsInUse(db: Db): Promise<string[]> {
  const rows = await db
    .selectDistinct({ appName: instances.appName })
    .from(instances)
    .where(sql`${instances.status} not in ('destroyed')`);
  return rows.map((r) => r.appName);
}

/** Name, app and volume of an instance (for retained-volume checks). */
export async function instanceRef(db: Db, instanceId: string) {
  const [row] = await db
    .select({
      id: instances.id,
      name: instances.name,
      appName: instances.appName,
      status: instances.status,
      volumeId: instances.volumeId,
      machineId: instances.machineId,
    })
    .from(instances)
    .where(eq(instances.id, instanceId));
  return row ?? null;
}

/** What a recovery step needs of its instance (with its pin, which the image respects). */
export async function instanceForRecovery(
  db: Db,
  instanceId: string,
): Promise<RecoverableInstance | null> {
  const [row] = await db
    .select({
      id: instances.id,
      name: instances.name,
      appName: instances.appName,
      region: instances.region,
      status: instances.status,
      machineId: instances.machineId,
      volumeId: instances.volumeId,
      imageTag: instances.imageTag,
      pinnedImageTag: versionPins.imageTag,
      deprovisioning: sql<boolean>`${instances.holdKind} is not distinct from 'deprovision'`,
    })
    .from(instances)
    .leftJoin(versionPins, eq(versionPins.instanceId, instances.id))
    .where(eq(instances.id, instanceId));
  return row ?? null;
}

/** Ids of instances whose name (or owner) contains `q`, for searches of other features. */
export async function instanceIdsMatching(db: Db, q: string, limit = 1000): Promise<string[]> {
  const pattern = `%${q.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;
  const rows = await db
    .select({ id: instances.id })
    .from(instances)
    .where(sql`${instances.searchText} like ${pattern}`)
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Names of instances by id (for lists that show them). */
export async function instanceNames(db: Db, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await db
    .select({ id: instances.id, name: instances.name })
    .from(instances)
    .where(inArray(instances.id, [...new Set(ids)]));
  return new Map(rows.map((r) => [r.id, r.name]));
}
