import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import { instanceEvents, instanceOperations, instances } from '../../../db/schema/index.ts';
import type { Deps } from '../../deps.ts';
import {
  ClaimLost,
  claimStatement,
  handBack as handBackUnit,
  heldBy,
  released,
} from '../../lib/work/index.ts';
import type { Operation } from './model.ts';
import { operationUnits } from './units.ts';

/** What a step needs of its instance, read by the claim itself. */
export type StepInstance = {
  id: string;
  name: string;
  appName: string;
  region: string;
  machineId: string | null;
  volumeId: string | null;
  imageTag: string | null;
};

/**
 * The step claim as a prepared statement, built once per database handle: it is the
 * hottest statement of every operation, and building it again each time (drizzle's query
 * building, the server's parse) costs more than running it.
 */
function buildClaimStep(db: Db) {
  const now = sql`${sql.placeholder('now')}::timestamptz`;
  const claimed = db.$with('claimed').as(
    claimStatement(db, operationUnits, sql`${sql.placeholder('id')}::uuid`, {
      now,
      leaseUntil: sql`${sql.placeholder('leaseUntil')}::timestamptz`,
      set: { status: 'running', updatedAt: now },
    }),
  );
  return db
    .with(claimed)
    .select()
    .from(claimed)
    .leftJoin(instances, eq(instances.id, claimed.instanceId))
    .prepare('fw_claim_operation_step');
}
const claimSteps = new WeakMap<Db, ReturnType<typeof buildClaimStep>>();

/**
 * Claims an operation for one step (src/lib/work): active, due, and not leased by a
 * live handler. One statement sets `running`, a fresh claim token, a lease of `leaseMs`
 * and `attempts + 1`, and reads the instance the step acts on; it commits before any Fly
 * call, so only the claimer acts. Null when there is nothing to do (finished, not due, or
 * held).
 */
export async function claimStep(
  db: Db,
  id: string,
  now: Date,
  leaseMs: number,
): Promise<{ op: Operation; instance: StepInstance | null } | null> {
  let prepared = claimSteps.get(db);
  if (!prepared) {
    prepared = buildClaimStep(db);
    claimSteps.set(db, prepared);
  }
  const [row] = await prepared.execute({
    id,
    now,
    leaseUntil: new Date(now.getTime() + leaseMs),
  });
  if (!row) return null;
  const i = row.instances;
  return {
    op: row.claimed as Operation,
    instance: i && {
      id: i.id,
      name: i.name,
      appName: i.appName,
      region: i.region,
      machineId: i.machineId,
      volumeId: i.volumeId,
      imageTag: i.imageTag,
    },
  };
}

/** The fields a step may change on its operation. */
export type StepPatch = Partial<
  Pick<Operation, 'step' | 'expectedVersion' | 'expectedState' | 'probeFailures'>
>;

/**
 * Hands the operation back until `at` (its continuation doorbell rings then): writes the
 * progress made in this callback, the note, and releases the claim. Guarded by the claim;
 * throws {@link ClaimLost} when another handler holds it now.
 */
export function handBack(
  db: Db,
  op: Operation,
  input: { at: Date; note: string; patch: StepPatch; now: Date },
): Promise<Operation> {
  return handBackUnit(db, operationUnits, op, input.at, {
    ...input.patch,
    lastNote: input.note,
    updatedAt: input.now,
  });
}

/**
 * Writes fields of the operation's instance (the volume and machine a provision made), in
 * one statement guarded by the operation's claim: a handler that lost its claim writes
 * nothing and gets {@link ClaimLost}.
 */
export async function saveInstanceFields(
  db: Db,
  op: Operation,
  patch: Partial<Pick<typeof instances.$inferInsert, 'volumeId' | 'machineId' | 'machineVersion'>>,
  now: Date,
): Promise<void> {
  const held = db
    .$with('held')
    .as(
      db
        .update(instanceOperations)
        .set({ updatedAt: now })
        .where(heldBy(instanceOperations, op))
        .returning({ instanceId: instanceOperations.instanceId }),
    );
  const rows = await db
    .with(held)
    .update(instances)
    .set({ ...patch, updatedAt: now })
    .where(inArray(instances.id, db.select({ id: held.instanceId }).from(held)))
    .returning({ id: instances.id });
  if (rows.length === 0) throw new ClaimLost(`operation ${op.id}`);
}

export type Finish = { ok: true; version: string | null } | { ok: false; error: string };

/**
 * Ends an operation and moves its instance, in one transaction guarded by the claim: a
 * handler that lost its claim changes nothing. `patch` is the progress this callback made
 * (kept in memory until now, so a fast operation writes its row twice: claim and finish).
 * Success: the instance is running (stopped, when the operation expected a stopped machine)
 * on the verified version and image. Failure: restart, version change and provision leave
 * the instance `failed`; a failed stop or start leaves its status; either way the reason is
 * on the instance. Listeners (the scheduler) write in the same transaction. Returns the
 * finished row, or null when the claim was lost.
 */
export async function finishOperation(
  deps: Pick<Deps, 'db' | 'log' | 'operationListeners' | 'doorbells' | 'config'>,
  op: Operation,
  result: Finish,
  now: Date,
  patch: StepPatch = {},
): Promise<Operation | null> {
  const after: (() => Promise<void>)[] = [];
  const changesVersion = op.kind === 'version_change' || op.kind === 'provision';
  const stopped = (op.expectedState ?? (op.kind === 'stop' ? 'stopped' : 'started')) === 'stopped';
  const instanceChange = result.ok
    ? {
        status: stopped ? ('stopped' as const) : ('running' as const),
        machineVersion: result.version,
        lastError: null,
        updatedAt: now,
        ...(changesVersion ? { imageTag: op.targetImageTag } : {}),
      }
    : {
        lastError: result.error,
        updatedAt: now,
        ...(op.kind !== 'stop' && op.kind !== 'start' ? { status: 'failed' as const } : {}),
      };
  const event = {
    type: `${op.kind}_${result.ok ? 'succeeded' : 'failed'}`,
    payload: result.ok
      ? { operationId: op.id, version: result.version, imageTag: op.targetImageTag }
      : { operationId: op.id, error: result.error },
  };
  const finished = await deps.db.transaction(async (tx) => {
    // One statement: the guarded outcome, the instance it moves and its timeline event
    // (the instance and the event are written only when the guard matched).
    const done = tx.$with('done').as(
      tx
        .update(instanceOperations)
        .set({
          ...patch,
          status: result.ok ? 'succeeded' : 'failed',
          step: 'done',
          error: result.ok ? null : result.error,
          lastNote: null,
          finishedAt: now,
          updatedAt: now,
          ...released(instanceOperations),
        })
        .where(heldBy(instanceOperations, op))
        .returning(),
    );
    const moved = tx.$with('moved').as(
      tx
        .update(instances)
        .set(instanceChange)
        .where(inArray(instances.id, tx.select({ id: done.instanceId }).from(done)))
        .returning({ id: instances.id }),
    );
    const noted = tx.$with('noted').as(
      tx
        .insert(instanceEvents)
        .select(
          tx
            .select({
              id: sql`gen_random_uuid()`.as('id'),
              instanceId: done.instanceId,
              type: sql`${event.type}::text`.as('type'),
              actorLabel: sql`'system'`.as('actor_label'),
              payload: sql`${JSON.stringify(event.payload)}::jsonb`.as('payload'),
              at: sql`${now}::timestamptz`.as('at'),
            })
            .from(done),
        )
        .returning({ id: instanceEvents.id }),
    );
    const [row] = await tx.with(done, moved, noted).select().from(done);
    if (!row) return null;
    const doneRow = row as Operation;
    for (const listen of deps.operationListeners) {
      const then = await listen(deps, tx, doneRow, result, now);
      if (then) after.push(then);
    }
    return doneRow;
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
  ctx: Pick<Deps, 'doorbells' | 'log' | 'config'>,
  tx: Db,
  op: Operation,
  result: Finish,
  now: Date,
) => Promise<(() => Promise<void>) | undefined>;
