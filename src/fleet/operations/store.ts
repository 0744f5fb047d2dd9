import { and, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import { instanceOperations, instances } from '../../../db/schema/index.ts';
import type { Deps } from '../../deps.ts';
import { recordInstanceEvent } from '../events.ts';
import { LEASE_MS, type Operation } from './model.ts';

/**
 * Claims an operation for one step: active, due, and not leased by a live handler. The
 * claim (status running, a fresh lease token, attempts + 1) commits before any Fly call,
 * so only the claimer acts. Null when there is nothing to do (finished, not due, or held).
 */
export async function claimOperation(db: Db, id: string, now: Date): Promise<Operation | null> {
  const [row] = await db
    .update(instanceOperations)
    .set({
      status: 'running',
      leaseUntil: new Date(now.getTime() + LEASE_MS),
      leaseToken: sql`gen_random_uuid()`,
      attempts: sql`${instanceOperations.attempts} + 1`,
      updatedAt: now,
    })
    .where(
      and(
        eq(instanceOperations.id, id),
        inArray(instanceOperations.status, ['pending', 'running']),
        lte(instanceOperations.nextCheckAt, now),
        or(isNull(instanceOperations.leaseUntil), lt(instanceOperations.leaseUntil, now)),
      ),
    )
    .returning();
  return row ?? null;
}

/** Writes step progress while keeping the lease; null when the lease was lost. */
export async function saveProgress(
  db: Db,
  op: Operation,
  patch: Partial<typeof instanceOperations.$inferInsert>,
  now: Date,
) {
  const [row] = await db
    .update(instanceOperations)
    .set({ ...patch, updatedAt: now })
    .where(
      and(eq(instanceOperations.id, op.id), eq(instanceOperations.leaseToken, op.leaseToken ?? '')),
    )
    .returning();
  return row ?? null;
}

/** Hands the operation back until `at` (the continuation doorbell rings then); releases the lease. */
export async function scheduleNext(
  db: Db,
  op: Operation,
  at: Date,
  note: string,
  now: Date,
  patch: Partial<typeof instanceOperations.$inferInsert> = {},
) {
  return saveProgress(
    db,
    op,
    { ...patch, nextCheckAt: at, lastNote: note, leaseUntil: null, leaseToken: null },
    now,
  );
}

export type Finish = { ok: true; version: string | null } | { ok: false; error: string };

/**
 * Ends an operation and moves its instance, in one transaction guarded by the lease: a
 * handler that lost its lease changes nothing. Success: the instance is running (stopped
 * for a stop) on the verified version and image. Failure: restart, version change and
 * provision leave the instance `failed`; a failed stop or start leaves its status; either
 * way the reason is on the instance. Returns the finished row, or null when the lease was lost.
 */
export async function finishOperation(
  deps: Pick<Deps, 'db' | 'log' | 'operationListeners' | 'doorbells'>,
  op: Operation,
  result: Finish,
  now: Date,
): Promise<Operation | null> {
  const after: (() => Promise<void>)[] = [];
  const finished = await deps.db.transaction(async (tx) => {
    const [done] = await tx
      .update(instanceOperations)
      .set({
        status: result.ok ? 'succeeded' : 'failed',
        step: 'done',
        error: result.ok ? null : result.error,
        lastNote: null,
        leaseUntil: null,
        leaseToken: null,
        finishedAt: now,
        updatedAt: now,
      })
      .where(
        and(
          eq(instanceOperations.id, op.id),
          eq(instanceOperations.leaseToken, op.leaseToken ?? ''),
        ),
      )
      .returning();
    if (!done) return null;
    const changesVersion = op.kind === 'version_change' || op.kind === 'provision';
    if (result.ok) {
      await tx
        .update(instances)
        .set({
          status: op.kind === 'stop' ? 'stopped' : 'running',
          machineVersion: result.version,
          lastError: null,
          updatedAt: now,
          ...(changesVersion ? { imageTag: op.targetImageTag } : {}),
        })
        .where(eq(instances.id, op.instanceId));
    } else {
      const failsInstance = op.kind !== 'stop' && op.kind !== 'start';
      await tx
        .update(instances)
        .set({
          lastError: result.error,
          updatedAt: now,
          ...(failsInstance ? { status: 'failed' as const } : {}),
        })
        .where(eq(instances.id, op.instanceId));
    }
    await recordInstanceEvent(tx, {
      instanceId: op.instanceId,
      type: `${op.kind}_${result.ok ? 'succeeded' : 'failed'}`,
      payload: result.ok
        ? { operationId: op.id, version: result.version, imageTag: op.targetImageTag }
        : { operationId: op.id, error: result.error },
      at: now,
    });
    for (const listen of deps.operationListeners) {
      const then = await listen(
        { doorbells: deps.doorbells, log: deps.log },
        tx,
        done,
        result,
        now,
      );
      if (then) after.push(then);
    }
    return done;
  });
  for (const then of after) {
    try {
      await then();
    } catch (err) {
      deps.log.warn('operation.listener_after_commit_failed', { operationId: op.id, error: err });
    }
  }
  return finished;
}

/**
 * Called inside the transaction that finishes an operation (so what it writes commits or
 * rolls back with the outcome); may return work to run after the commit (ringing doorbells).
 */
export type OperationListener = (
  ctx: Pick<Deps, 'doorbells' | 'log'>,
  tx: Db,
  op: Operation,
  result: Finish,
  now: Date,
) => Promise<(() => Promise<void>) | undefined>;
