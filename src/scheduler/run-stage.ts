import { and, asc, count, eq, inArray, lt, lte, min, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  instanceOperations,
  instances,
  scheduledActionStages,
  scheduledActions,
  scheduledActionTargets,
  versionPins,
} from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import { BUSY_STATUSES, type Operation } from '../fleet/operations/model.ts';
import { insertOperation, ringStep } from '../fleet/operations/request.ts';
import { writePin } from '../fleet/pins.ts';
import { isUniqueViolation } from '../lib/pg-errors.ts';
import {
  BUSY_WINDOW_MS,
  busyBackoffMs,
  CLAIM_CHUNK,
  type ScheduledAction,
  STAGE_CONCURRENCY,
  type Stage,
  TARGET_LEASE_MS,
  type Target,
} from './model.ts';
import { lockStage, ringAfter, ringStage, settleStage, writeTargetOutcome } from './outcome.ts';

export type StageRun =
  | { outcome: 'skipped'; reason: 'unknown' | 'not_live' | 'not_due' | 'waiting_for_previous' }
  | { outcome: 'progressed'; started: number; skipped: number; failed: number; deferred: number };

/** Seconds between checks while a stage waits for the one before it. */
const WAIT_FOR_PREVIOUS_MS = 15_000;

async function activate(
  deps: Deps,
  stageId: string,
  now: Date,
): Promise<{ stage: Stage; action: ScheduledAction } | StageRun> {
  return deps.db.transaction(async (tx) => {
    const stage = await lockStage(tx, stageId);
    if (!stage) return { outcome: 'skipped', reason: 'unknown' } as const;
    const [action] = await tx
      .select()
      .from(scheduledActions)
      .where(eq(scheduledActions.id, stage.actionId));
    if (
      !action ||
      (action.status !== 'scheduled' && action.status !== 'running') ||
      (stage.status !== 'pending' && stage.status !== 'running')
    )
      return { outcome: 'skipped', reason: 'not_live' } as const;
    if (stage.scheduledAt > now) return { outcome: 'skipped', reason: 'not_due' } as const;
    if (stage.index > 0) {
      const [previous] = await tx
        .select({ status: scheduledActionStages.status })
        .from(scheduledActionStages)
        .where(
          and(
            eq(scheduledActionStages.actionId, action.id),
            eq(scheduledActionStages.index, stage.index - 1),
          ),
        );
      // A stage starts only after the one before it has finished and passed its gate.
      if (previous && (previous.status === 'pending' || previous.status === 'running'))
        return { outcome: 'skipped', reason: 'waiting_for_previous' } as const;
    }
    if (stage.status === 'pending') {
      await tx
        .update(scheduledActionStages)
        .set({ status: 'running', startedAt: now })
        .where(eq(scheduledActionStages.id, stage.id));
      if (action.status === 'scheduled')
        await tx
          .update(scheduledActions)
          .set({ status: 'running', startedAt: now })
          .where(and(eq(scheduledActions.id, action.id), eq(scheduledActions.status, 'scheduled')));
    }
    return { stage: { ...stage, status: 'running' as const }, action };
  });
}

/** Claims due pending targets up to the stage's free concurrency; committed before anything acts on them. */
async function claim(database: Db, stageId: string, now: Date): Promise<Target[]> {
  // The stage row lock makes count-then-claim atomic across concurrent stage doorbells, so
  // the stage never has more than STAGE_CONCURRENCY targets being applied.
  return database.transaction(async (db) => {
    await lockStage(db, stageId);
    const [{ running } = { running: 0 }] = await db
      .select({ running: count() })
      .from(scheduledActionTargets)
      .where(
        and(
          eq(scheduledActionTargets.stageId, stageId),
          eq(scheduledActionTargets.status, 'running'),
        ),
      );
    const free = Math.min(CLAIM_CHUNK, STAGE_CONCURRENCY - running);
    if (free <= 0) return [];
    const due = db
      .select({ id: scheduledActionTargets.id })
      .from(scheduledActionTargets)
      .where(
        and(
          eq(scheduledActionTargets.stageId, stageId),
          eq(scheduledActionTargets.status, 'pending'),
          lte(scheduledActionTargets.nextAttemptAt, now),
        ),
      )
      .orderBy(asc(scheduledActionTargets.nextAttemptAt), asc(scheduledActionTargets.id))
      .limit(free)
      .for('update', { skipLocked: true });
    return db
      .update(scheduledActionTargets)
      .set({
        status: 'running',
        claimedAt: now,
        leaseUntil: new Date(now.getTime() + TARGET_LEASE_MS),
        attempts: sql`${scheduledActionTargets.attempts} + 1`,
      })
      .where(inArray(scheduledActionTargets.id, due))
      .returning();
  });
}

type Started =
  | { kind: 'started'; op: Operation }
  | { kind: 'finished'; status: 'skipped' | 'failed' }
  | { kind: 'deferred' };

/**
 * One claimed target, re-checked against the instance as it is now (in one transaction
 * with the stage locked): destroyed → skipped; a pinned instance without override →
 * skipped `pinned`; already on the target image → skipped `already_on_target`; busy →
 * back to pending with backoff, failed `instance_busy` after 10 minutes of trying;
 * otherwise the instance operation that applies it is created and linked.
 */
async function startTarget(
  deps: Deps,
  action: ScheduledAction,
  target: Target,
  now: Date,
): Promise<Started> {
  return deps.db.transaction(async (tx) => {
    const stage = await lockStage(tx, target.stageId);
    const [instance] = await tx
      .select()
      .from(instances)
      .where(eq(instances.id, target.instanceId))
      .for('update');
    const [pin] = await tx
      .select()
      .from(versionPins)
      .where(eq(versionPins.instanceId, target.instanceId));
    const finish = async (
      outcome: { status: 'skipped'; reason: string } | { status: 'failed'; error: string },
    ) => {
      await writeTargetOutcome(tx, target, outcome, now);
      if (stage) await settleStage(tx, stage, now);
      return { kind: 'finished', status: outcome.status } as const;
    };
    if (!instance || instance.status === 'destroyed' || instance.status === 'destroying')
      return finish({ status: 'skipped', reason: 'destroyed' });
    const isVersion = action.actionType === 'version_change';
    if (isVersion && pin && pin.imageTag !== action.targetImageTag && !action.overridePins)
      return finish({ status: 'skipped', reason: 'pinned' });
    if (isVersion && instance.imageTag === action.targetImageTag)
      return finish({ status: 'skipped', reason: 'already_on_target' });
    const [active] = await tx
      .select({ id: instanceOperations.id })
      .from(instanceOperations)
      .where(
        and(
          eq(instanceOperations.instanceId, instance.id),
          inArray(instanceOperations.status, ['pending', 'running']),
        ),
      );
    const busy =
      Boolean(active) ||
      (BUSY_STATUSES as readonly string[]).includes(instance.status) ||
      !instance.machineId;
    if (busy) {
      const since = target.busySince ?? now;
      if (now.getTime() - since.getTime() >= BUSY_WINDOW_MS)
        return finish({
          status: 'failed',
          error: `instance_busy: the instance stayed ${instance.status}${active ? ' with another action running' : ''} for ${BUSY_WINDOW_MS / 60_000} minutes`,
        });
      await tx
        .update(scheduledActionTargets)
        .set({
          status: 'pending',
          busySince: since,
          leaseUntil: null,
          nextAttemptAt: new Date(now.getTime() + busyBackoffMs(target.attempts)),
        })
        .where(
          and(
            eq(scheduledActionTargets.id, target.id),
            eq(scheduledActionTargets.status, 'running'),
          ),
        );
      return { kind: 'deferred' } as const;
    }
    const actor = {
      type: 'system' as const,
      id: null,
      label: `scheduled action ${action.id.slice(0, 8)}`,
    };
    if (isVersion && pin && pin.imageTag !== action.targetImageTag && action.targetImageTag)
      await writePin(
        tx,
        { ...deps, actor, requestId: null },
        {
          instanceId: instance.id,
          imageTag: action.targetImageTag,
          reason: `override by scheduled action ${action.id} (was ${pin.imageTag})`,
        },
      );
    const op = await insertOperation(tx, {
      instance,
      kind: action.actionType,
      targetImageTag: isVersion ? action.targetImageTag : instance.imageTag,
      actor,
      now,
      eventPayload: { scheduledActionId: action.id, targetId: target.id },
    });
    await tx
      .update(scheduledActionTargets)
      .set({ operationId: op.id, leaseUntil: null, sourceImageTag: instance.imageTag })
      .where(eq(scheduledActionTargets.id, target.id));
    return { kind: 'started', op } as const;
  });
}

/**
 * A stage's doorbell: when the stage is due, live, and the one before it has finished,
 * claims its due targets (at most 50 being applied at once), re-checks each and starts
 * the instance operations that apply them; operation doorbells are rung after commit.
 * Finishing operations ring the stage again for the rest. Busy instances are retried by a
 * doorbell at their next attempt. Idempotent: duplicates find nothing to claim.
 */
export async function runStage(deps: Deps, input: { stageId: string }): Promise<StageRun> {
  const now = deps.clock.now();
  const active = await activate(deps, input.stageId, now);
  if ('outcome' in active) {
    if (active.outcome === 'skipped' && active.reason === 'waiting_for_previous') {
      const [stage] = await deps.db
        .select()
        .from(scheduledActionStages)
        .where(eq(scheduledActionStages.id, input.stageId));
      if (stage)
        await ringStage(
          deps,
          stage,
          `wait-${Math.floor(now.getTime() / WAIT_FOR_PREVIOUS_MS)}`,
          new Date(now.getTime() + WAIT_FOR_PREVIOUS_MS),
        );
    }
    return active;
  }
  const { stage, action } = active;
  const result = { outcome: 'progressed' as const, started: 0, skipped: 0, failed: 0, deferred: 0 };
  const ops: Operation[] = [];
  const claimed = await claim(deps.db, stage.id, now);
  for (const target of claimed) {
    try {
      const started = await startTarget(deps, action, target, now);
      if (started.kind === 'started') {
        ops.push(started.op);
        result.started++;
      } else if (started.kind === 'deferred') result.deferred++;
      else result[started.status]++;
    } catch (err) {
      // Another action on the instance won the race for its one active operation: busy.
      if (!isUniqueViolation(err)) throw err;
      await deps.db
        .update(scheduledActionTargets)
        .set({
          status: 'pending',
          busySince: target.busySince ?? now,
          leaseUntil: null,
          nextAttemptAt: new Date(now.getTime() + busyBackoffMs(target.attempts)),
        })
        .where(
          and(
            eq(scheduledActionTargets.id, target.id),
            eq(scheduledActionTargets.status, 'running'),
          ),
        );
      result.deferred++;
    }
  }
  for (const op of ops) await ringStep(deps, op);
  // Whatever finished here may have finished the stage, or left more to do.
  const settled = await deps.db.transaction(async (tx) => {
    const locked = await lockStage(tx, stage.id);
    return locked ? settleStage(tx, locked, now) : null;
  });
  if (settled) await ringAfter(deps, stage, settled, `run-${now.getTime()}`, now)();
  const [later] = await deps.db
    .select({ at: min(scheduledActionTargets.nextAttemptAt) })
    .from(scheduledActionTargets)
    .where(
      and(
        eq(scheduledActionTargets.stageId, stage.id),
        eq(scheduledActionTargets.status, 'pending'),
        lt(sql`${now.toISOString()}::timestamptz`, scheduledActionTargets.nextAttemptAt),
      ),
    );
  if (later?.at) await ringStage(deps, stage, `retry-${later.at.getTime()}`, later.at);
  return result;
}
