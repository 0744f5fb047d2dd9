// A hold on an instance: another feature's live work (a CLI run) that makes the instance
// busy for the fleet's own actions. The fleet owns the columns and these two verbs; the
// holder never touches `instances` itself, and the fleet never reads the holder's tables.
// A hold never outlives the machine it protects: when reconcile gives the machine up, the
// holder is told (src/fleet/machine-lost.ts) and releases it before the recovery begins.
// Who wins when jobs meet on one instance: docs/seams.md.
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { type HoldKind, instanceOperations, instances, users } from '../../db/schema/index.ts';

/** What a holder needs of the instance it holds (read under its row lock). */
export type HeldInstance = {
  id: string;
  name: string;
  appName: string;
  machineId: string;
  userId: string;
  userEmail: string;
};

export type HoldRefusal =
  | { reason: 'not_found' }
  | { reason: 'held'; holdKind: HoldKind; holdId: string }
  | { reason: 'busy'; status: string }
  | { reason: 'not_running'; status: string };

/**
 * Takes a hold of `kind` named `id` on a running instance, inside the caller's
 * transaction (commit it with the holder's own row). The instance row is locked first and
 * read by a second statement, so the read sees every operation committed before the lock
 * was granted (a single locking read would judge by its older snapshot). Refused when the
 * instance is unknown, already held, busy (an operation pending or running, or a busy
 * status) or not running with a machine.
 */
export async function takeHold(
  tx: Db,
  instanceId: string,
  hold: { kind: HoldKind; id: string },
  now: Date,
): Promise<{ ok: true; instance: HeldInstance } | ({ ok: false } & HoldRefusal)> {
  await tx
    .select({ id: instances.id })
    .from(instances)
    .where(eq(instances.id, instanceId))
    .for('update');
  const [row] = await tx
    .select({
      id: instances.id,
      name: instances.name,
      appName: instances.appName,
      machineId: instances.machineId,
      status: instances.status,
      holdKind: instances.holdKind,
      holdId: instances.holdId,
      userId: instances.userId,
      userEmail: users.email,
      operating: sql<boolean>`exists (select 1 from ${instanceOperations} where ${instanceOperations.instanceId} = ${instances.id} and ${instanceOperations.status} in ('pending', 'running'))`,
    })
    .from(instances)
    .innerJoin(users, eq(users.id, instances.userId))
    .where(eq(instances.id, instanceId));
  if (!row) return { ok: false, reason: 'not_found' };
  if (row.holdKind && row.holdId)
    return { ok: false, reason: 'held', holdKind: row.holdKind, holdId: row.holdId };
  if (row.operating) return { ok: false, reason: 'busy', status: row.status };
  if (row.status !== 'running' || !row.machineId)
    return { ok: false, reason: 'not_running', status: row.status };
  await tx
    .update(instances)
    .set({ holdKind: hold.kind, holdId: hold.id, updatedAt: now })
    .where(eq(instances.id, instanceId));
  return {
    ok: true,
    instance: {
      id: row.id,
      name: row.name,
      appName: row.appName,
      machineId: row.machineId,
      userId: row.userId,
      userEmail: row.userEmail,
    },
  };
}

/** Releases the hold named `holdId` (a no-op when it is not the instance's hold). */
export async function releaseHold(
  tx: Db,
  instanceId: string,
  holdId: string,
  now: Date,
): Promise<boolean> {
  const rows = await tx
    .update(instances)
    .set({ holdKind: null, holdId: null, updatedAt: now })
    .where(and(eq(instances.id, instanceId), eq(instances.holdId, holdId)))
    .returning({ id: instances.id });
  return rows.length > 0;
}
