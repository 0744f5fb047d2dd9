// Reconcile: one pass comparing Fly's machines with our rows, app by app, and the
// recoveries it starts; its sightings, its run record and the list of past runs belong to
// that pass.
import { and, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { reconcileRuns, reconcileSightings } from '../../db/schema/index.ts';
import type { Machine } from '../adapters/fly/types.ts';
import { recordAudit } from '../audit/audit.ts';
import { type Actor, type Ctx, type Deps, SYSTEM_ACTOR } from '../deps.ts';
import { recordInstanceEvent } from '../fleet/events.ts';
import { reportMachineLost } from '../fleet/machine-lost.ts';
import { appsInUse, instancesOfApp, type ReconcileInstance } from '../fleet/recovery-moves.ts';
import { resumeDueFailures } from './auto-retry.ts';
import { type Divergence, divergenceOf } from './divergence.ts';
import { ringReturnedHosts } from './host-back.ts';
import { type Recovery, recoveryDoorbell } from './model.ts';
import { deleteDueRetainedVolumes } from './retained.ts';
import { beginRecovery } from './start.ts';

export type ReconcileRun = typeof reconcileRuns.$inferSelect;

/** Divergent instances handled at once within a run (each is a short transaction). */
const CONCURRENCY = 8;

type Counts = {
  apps: number;
  compared: number;
  diverged: number;
  recoveriesStarted: number;
  recoveriesRetried: number;
  recorded: number;
  volumesDeleted: number;
  errors: string[];
  /** Recoveries begun whose first doorbell is still to be rung (in batches). */
  begun: Recovery[];
};

/**
 * Notes a divergence that is not acted on now (a host unreachable under a started machine,
 * or one only recorded): one row per instance and kind. Returns when it was first seen and
 * whether this run saw it first (its event is recorded once, then).
 */
async function sight(
  db: Db,
  instanceId: string,
  kind: string,
  detail: Record<string, unknown>,
  now: Date,
): Promise<{ firstSeenAt: Date; isNew: boolean }> {
  const [row] = await db
    .insert(reconcileSightings)
    .values({ instanceId, kind, firstSeenAt: now, lastSeenAt: now, detail })
    .onConflictDoUpdate({
      target: [reconcileSightings.instanceId, reconcileSightings.kind],
      set: { lastSeenAt: now, detail },
    })
    .returning({
      firstSeenAt: reconcileSightings.firstSeenAt,
      isNew: sql<boolean>`(xmax = 0)`,
    });
  return { firstSeenAt: row?.firstSeenAt ?? now, isNew: Boolean(row?.isNew) };
}

/** Acts on (or records) one instance's divergence. */
async function handle(
  deps: Deps,
  instance: ReconcileInstance,
  d: Divergence,
  now: Date,
  counts: Counts,
  actor: Actor,
): Promise<void> {
  counts.diverged++;
  let down: {
    cause: Parameters<typeof beginRecovery>[1]['cause'];
    flyState: string | null;
    hostStatus: string | null;
  } | null = null;
  if (d.kind === 'down') down = d;
  else if (d.kind === 'unreachable') {
    const seen = await sight(
      deps.db,
      instance.id,
      'host_unreachable',
      { flyState: d.flyState },
      now,
    );
    if (now.getTime() - seen.firstSeenAt.getTime() >= deps.config.recovery.unreachableMs)
      down = { cause: 'host_unreachable', flyState: d.flyState, hostStatus: d.hostStatus };
    else return;
  } else {
    const seen = await sight(deps.db, instance.id, d.kind, d.detail, now);
    if (seen.isNew) {
      await recordInstanceEvent(deps.db, {
        instanceId: instance.id,
        type: 'reconcile_divergence',
        payload: { kind: d.kind, ...d.detail },
        at: now,
      });
      deps.log.info('reconcile.divergence', { instanceId: instance.id, kind: d.kind, ...d.detail });
    }
    counts.recorded++;
    return;
  }
  // The machine is given up: work that ran on it (a CLI run holding the instance, agent
  // sessions) ends first, so no hold outlives it and the recovery below can begin now.
  if (instance.machineId)
    await reportMachineLost(deps, {
      instanceId: instance.id,
      machineId: instance.machineId,
      cause: down.cause,
      flyState: down.flyState,
      confirmedDown: down.cause !== 'host_unreachable',
    });
  if (!deps.config.recovery.enabled) {
    const seen = await sight(
      deps.db,
      instance.id,
      'down_not_recovered',
      { cause: down.cause },
      now,
    );
    if (seen.isNew)
      await recordInstanceEvent(deps.db, {
        instanceId: instance.id,
        type: 'reconcile_divergence',
        payload: { kind: 'machine_down', cause: down.cause, note: 'recovery is off' },
        at: now,
      });
    counts.recorded++;
    return;
  }
  const begun = await beginRecovery(
    deps,
    {
      instanceId: instance.id,
      trigger: 'reconcile',
      cause: down.cause,
      flyState: down.flyState,
      hostStatus: down.hostStatus,
      actor,
    },
    { ring: false },
  );
  if (begun.ok) {
    counts.recoveriesStarted++;
    counts.begun.push(begun.recovery);
    await deps.db.delete(reconcileSightings).where(eq(reconcileSightings.instanceId, instance.id));
  }
}

/** One app: one listing of its machines, compared with its instances. */
async function reconcileApp(deps: Deps, app: string, now: Date, counts: Counts, actor: Actor) {
  // One call per app: Fly's `GET /v1/apps/{app}/machines` has no paging (machines-resource,
  // "List Machines"); it answers every machine of the app at once.
  const [machines, instances] = await Promise.all([
    deps.fly.listMachines(app),
    instancesOfApp(deps.db, app),
  ]);
  counts.apps++;
  const byId = new Map<string, Machine>(machines.map((m) => [m.id, m]));
  await ringReturnedHosts(deps, byId, now);
  const compared = instances.map((i) => i.id);
  const diverging = instances.flatMap((instance) => {
    const d = divergenceOf(instance, instance.machineId ? byId.get(instance.machineId) : undefined);
    return d ? [{ instance, d }] : [];
  });
  let next = 0;
  const worker = async () => {
    for (let item = diverging[next++]; item; item = diverging[next++]) {
      try {
        await handle(deps, item.instance, item.d, now, counts, actor);
      } catch (err) {
        counts.errors.push(`instance ${item.instance.id}: ${(err as Error).message}`);
        deps.log.error('reconcile.instance_failed', { instanceId: item.instance.id, error: err });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  counts.compared += compared.length;
  // Divergences that ended: forget them, so a new one is recorded again.
  for (let i = 0; i < compared.length; i += 5000)
    await deps.db
      .delete(reconcileSightings)
      .where(
        and(
          inArray(reconcileSightings.instanceId, compared.slice(i, i + 5000)),
          lt(reconcileSightings.lastSeenAt, now),
        ),
      );
}

/** The first doorbell of each recovery begun, published in QStash batches of 100. */
async function ringFirstSteps(deps: Deps, begun: Recovery[]) {
  for (let i = 0; i < begun.length; i += 100) {
    const batch = begun.slice(i, i + 100);
    try {
      await deps.doorbells.ringMany(batch.map((r) => recoveryDoorbell(r)));
    } catch (err) {
      deps.log.warn('recovery.ring_failed', {
        count: batch.length,
        error: err,
        hint: 'swept later',
      });
    }
  }
}

/**
 * One reconcile run: for each Fly app holding instances, one listing of its machines,
 * compared with the database; recoveries begun for the instances that should run and do
 * not, other divergences recorded (once, as `reconcile_divergence` events); recoveries
 * waiting for a host that the listing shows back rung at once; failed recoveries whose
 * `retry_at` has come resumed; retained volumes past their deadline deleted. Records a `reconcile_runs` row with the counts and
 * the duration (ms). A doorbell delivered again (same QStash message id) returns its run.
 */
export async function runReconcile(
  deps: Deps,
  input: { messageId: string | null; trigger?: 'reconcile' | 'admin'; actor?: Actor },
): Promise<ReconcileRun> {
  if (input.messageId) {
    const [done] = await deps.db
      .select()
      .from(reconcileRuns)
      .where(eq(reconcileRuns.messageId, input.messageId));
    if (done) return done;
  }
  const t0 = performance.now();
  const startedAt = deps.clock.now();
  const counts: Counts = {
    apps: 0,
    compared: 0,
    diverged: 0,
    recoveriesStarted: 0,
    recoveriesRetried: 0,
    recorded: 0,
    volumesDeleted: 0,
    errors: [],
    begun: [],
  };
  const actor = input.actor ?? SYSTEM_ACTOR;
  for (const app of await appsInUse(deps.db)) {
    try {
      await reconcileApp(deps, app, startedAt, counts, actor);
    } catch (err) {
      counts.errors.push(`app ${app}: ${(err as Error).message}`);
      deps.log.error('reconcile.app_failed', { app, error: err });
    }
  }
  if (deps.config.recovery.enabled) {
    const failed = await resumeDueFailures(deps, startedAt);
    counts.recoveriesRetried = failed.resumed.length;
    counts.begun.push(...failed.resumed);
    counts.errors.push(...failed.errors);
  }
  await ringFirstSteps(deps, counts.begun);
  const retained = await deleteDueRetainedVolumes(deps, startedAt);
  counts.volumesDeleted = retained.deleted;
  counts.errors.push(...retained.errors);
  const [row] = await deps.db
    .insert(reconcileRuns)
    .values({
      startedAt,
      finishedAt: deps.clock.now(),
      durationMs: Math.round(performance.now() - t0),
      apps: counts.apps,
      compared: counts.compared,
      diverged: counts.diverged,
      recoveriesStarted: counts.recoveriesStarted,
      recoveriesRetried: counts.recoveriesRetried,
      recorded: counts.recorded,
      volumesDeleted: counts.volumesDeleted,
      errors: counts.errors,
      trigger: input.trigger ?? 'reconcile',
      messageId: input.messageId,
    })
    .onConflictDoNothing()
    .returning();
  if (!row) {
    const [existing] = await deps.db
      .select()
      .from(reconcileRuns)
      .where(eq(reconcileRuns.messageId, input.messageId ?? ''));
    if (!existing) throw new Error('reconcile run vanished');
    return existing;
  }
  const { begun: _, ...logged } = counts;
  deps.log.info('reconcile.run', { runId: row.id, ...logged, durationMs: row.durationMs });
  return row;
}

/** `POST /api/admin/reconcile` and the console's button: a run now, audited. */
export async function reconcileNow({ ctx }: { ctx: Ctx }): Promise<ReconcileRun> {
  const run = await runReconcile(ctx, { messageId: null, trigger: 'admin', actor: ctx.actor });
  await recordAudit(ctx.db, ctx, {
    action: 'recovery.reconcile',
    subjectType: 'reconcile_run',
    subjectId: run.id,
    payload: { compared: run.compared, recoveriesStarted: run.recoveriesStarted },
  });
  return run;
}

export async function recentReconcileRuns(db: Db, limit = 20): Promise<ReconcileRun[]> {
  return db.select().from(reconcileRuns).orderBy(desc(reconcileRuns.startedAt)).limit(limit);
}
