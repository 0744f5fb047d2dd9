import { and, asc, eq, gt, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import {
  scheduledActionStages,
  scheduledActions,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import {
  existingInstances,
  insertOperations,
  type LockedInstance,
  lockInstances,
} from '../fleet/operations/batch.ts';
import type { Operation } from '../fleet/operations/model.ts';
import { writePin } from '../fleet/pins.ts';
import { claimAssignments } from '../lib/work/index.ts';
import { type Decision, decide } from './decide.ts';
import {
  busyBackoffMs,
  CLAIM_CHUNK,
  refillWave,
  type ScheduledAction,
  type Stage,
} from './model.ts';
import { bumpAction, type Settled, settleStage, stageDrained } from './outcome.ts';
import type { StageRun } from './run-stage.ts';

/** Every stage claim of the deployment takes this advisory lock to respect the global cap. */
const GLOBAL_CAP_LOCK = 7_310_001;

type Opened =
  | { kind: 'open'; stage: Stage; action: ScheduledAction }
  | { kind: 'skip'; run: StageRun };

/**
 * Locks the stage and checks, under that lock, that it may start targets now: the action
 * is live (scheduled or running, not paused), the stage is due and the one before it has
 * finished (and passed its gate). A pending stage becomes running (and a scheduled action
 * running) here.
 */
async function openStage(tx: Db, stageId: string, now: Date): Promise<Opened> {
  const [row] = await tx
    .select({ stage: scheduledActionStages, action: scheduledActions })
    .from(scheduledActionStages)
    .innerJoin(scheduledActions, eq(scheduledActions.id, scheduledActionStages.actionId))
    .where(eq(scheduledActionStages.id, stageId))
    .for('update', { of: scheduledActionStages });
  if (!row) return { kind: 'skip', run: { outcome: 'skipped', reason: 'unknown' } };
  const { stage, action } = row;
  if (stage.status !== 'pending' && stage.status !== 'running')
    return { kind: 'skip', run: { outcome: 'skipped', reason: 'not_live' } };
  if (action.status === 'paused')
    return { kind: 'skip', run: { outcome: 'skipped', reason: 'paused' } };
  if (action.status !== 'scheduled' && action.status !== 'running')
    return { kind: 'skip', run: { outcome: 'skipped', reason: 'not_live' } };
  if (stage.scheduledAt > now)
    return { kind: 'skip', run: { outcome: 'early', dueAt: stage.scheduledAt } };
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
    // The previous stage rings this one when it finishes (settleStage's `nextDue`).
    if (previous && (previous.status === 'pending' || previous.status === 'running'))
      return { kind: 'skip', run: { outcome: 'skipped', reason: 'waiting_for_previous' } };
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
        .where(eq(scheduledActions.id, action.id));
  }
  return {
    kind: 'open',
    stage: { ...stage, status: 'running', startedAt: stage.startedAt ?? now },
    action: { ...action, status: 'running' },
  };
}

/**
 * Free slots under the deployment-wide cap: the cap minus every target being applied,
 * whatever its stage's status (a cancelled or halted stage's started targets still run).
 */
async function globalRoom(tx: Db, cap: number): Promise<number> {
  await tx.execute(sql`select pg_advisory_xact_lock(${GLOBAL_CAP_LOCK})`);
  const [row] = await tx
    .select({ running: sql<number>`coalesce(sum(${scheduledActionStages.running}), 0)::int` })
    .from(scheduledActionStages)
    .where(gt(scheduledActionStages.running, 0));
  return cap - (row?.running ?? 0);
}

export type Chunk = {
  ops: Operation[];
  claimed: number;
  counts: { started: number; skipped: number; failed: number; deferred: number };
  /** Free slots left after this chunk (per action and deployment-wide). */
  room: number;
  /** The deployment-wide cap, not the action's own, bounded this chunk. */
  capped: boolean;
  stage: Stage;
  settled: Settled | null;
};

/**
 * One transaction: claim up to a chunk of the stage's due pending targets within its free
 * slots (src/lib/work), re-check each under the instance's lock, and for those that
 * go ahead create the instance operation that applies them — all committed together, so a
 * claimed target always has its operation and a cancel (which takes the stage lock first)
 * either sees it started or stops it before it is claimed. Counters on the stage and the
 * action move in the same transaction.
 */
export async function claimChunk(
  deps: Deps,
  stageId: string,
  now: Date,
): Promise<Chunk | StageRun> {
  return deps.db.transaction(async (tx) => {
    const opened = await openStage(tx, stageId, now);
    if (opened.kind === 'skip') return opened.run;
    const { stage, action } = opened;
    const own = action.maxInFlight - stage.running;
    // At its own cap: its finishing operations ring it when a wave of slots frees.
    if (own <= 0) return { outcome: 'skipped', reason: 'full' } as const;
    const shared = await globalRoom(tx, deps.config.scheduler.maxInFlight);
    if (shared <= 0) return { outcome: 'skipped', reason: 'at_cap' } as const;
    const room = Math.min(own, shared);
    // The due targets, locked (SKIP LOCKED: another handler's are left to it); then their
    // instances, also SKIP LOCKED, so a claim never waits on an instance another change
    // holds while it holds the cap's lock — such a target waits like a busy one.
    const claimed = await tx
      .select()
      .from(scheduledActionTargets)
      .where(
        and(
          eq(scheduledActionTargets.stageId, stage.id),
          eq(scheduledActionTargets.status, 'pending'),
          lte(scheduledActionTargets.nextAttemptAt, now),
        ),
      )
      .orderBy(asc(scheduledActionTargets.nextAttemptAt), asc(scheduledActionTargets.id))
      .limit(Math.min(room, CLAIM_CHUNK))
      .for('update', { skipLocked: true });
    const ids = claimed.map((t) => t.instanceId);
    const locked = await lockInstances(tx, ids, { skipLocked: true });
    const heldElsewhere = await existingInstances(
      tx,
      ids.filter((id) => !locked.has(id)),
    );
    const decisions = claimed.map((t) =>
      decide(
        action,
        t,
        locked.get(t.instanceId) ?? (heldElsewhere.has(t.instanceId) ? 'locked' : undefined),
        now,
      ),
    );
    const starting = decisions.filter((d) => d.kind === 'start');
    const actor = {
      type: 'system' as const,
      id: null,
      label: `scheduled action ${action.id.slice(0, 8)}`,
    };
    for (const d of starting)
      if (d.pinMove && action.targetImageTag)
        await writePin(
          tx,
          { ...deps, actor, requestId: null },
          {
            instanceId: d.target.instanceId,
            imageTag: action.targetImageTag,
            reason: `override by scheduled action ${action.id} (was ${d.pinMove})`,
          },
        );
    const isVersion = action.actionType === 'version_change';
    const ops = await insertOperations(
      tx,
      starting.map((d) => {
        const instance = locked.get(d.target.instanceId);
        return {
          instance: {
            id: d.target.instanceId,
            imageTag: instance?.imageTag ?? null,
            status: instance?.status ?? 'running',
          },
          kind: action.actionType,
          targetImageTag: isVersion ? action.targetImageTag : (instance?.imageTag ?? null),
          actor,
          eventPayload: { scheduledActionId: action.id, targetId: d.target.id },
        };
      }),
      now,
    );
    // An instance that got another operation after it was locked cannot exist (the lock
    // holds), but the insert tolerates it: such a target waits like a busy one.
    const final: Decision[] = decisions.map((d) =>
      d.kind === 'start' && !ops.has(d.target.instanceId)
        ? {
            kind: 'deferred',
            target: d.target,
            busySince: d.target.busySince ?? now,
            at: new Date(now.getTime() + busyBackoffMs(d.target.attempts + 1)),
          }
        : d,
    );
    await writeClaims(tx, final, ops, locked, now);
    const counts = { started: 0, skipped: 0, failed: 0, deferred: 0 };
    for (const d of final) counts[d.kind === 'start' ? 'started' : d.kind]++;
    const [after] = await tx
      .update(scheduledActionStages)
      .set({
        pending: sql`${scheduledActionStages.pending} - ${claimed.length - counts.deferred}`,
        running: sql`${scheduledActionStages.running} + ${counts.started}`,
        skipped: sql`${scheduledActionStages.skipped} + ${counts.skipped}`,
        failed: sql`${scheduledActionStages.failed} + ${counts.failed}`,
        wakeAtRunning: sql`greatest(0, ${scheduledActionStages.running} + ${counts.started} - ${refillWave(action.maxInFlight)})`,
      })
      .where(eq(scheduledActionStages.id, stage.id))
      .returning();
    if (!after) throw new Error('stage vanished under its lock');
    if (counts.skipped || counts.failed)
      await tx
        .update(scheduledActions)
        .set({ ...bumpAction('skipped', counts.skipped), ...bumpAction('failed', counts.failed) })
        .where(eq(scheduledActions.id, action.id));
    const settled = stageDrained(after) ? await settleStage(tx, after, now) : null;
    return {
      ops: [...ops.values()],
      claimed: claimed.length,
      counts,
      room: room - counts.started,
      capped: shared < own,
      stage: after,
      settled,
    };
  });
}

/**
 * Claims every target of the chunk and writes its decision in one guarded statement (the
 * claim of src/lib/work: a fresh token, `claimed_at`, `attempts + 1`, guarded by the
 * target still being `pending`): started ones become `running`, linked to their operation;
 * skipped and failed ones end; deferred ones stay pending until their next attempt. One
 * write per row, so the row's foreign keys are not checked again against instances another
 * change holds.
 */
async function writeClaims(
  tx: Db,
  decisions: Decision[],
  ops: Map<string, Operation>,
  locked: Map<string, LockedInstance>,
  now: Date,
): Promise<void> {
  if (!decisions.length) return;
  const rows = decisions.map((d) => {
    const t = d.target;
    const op = d.kind === 'start' ? (ops.get(t.instanceId)?.id ?? null) : null;
    const status = d.kind === 'start' ? 'running' : d.kind === 'deferred' ? 'pending' : d.kind;
    const ended = d.kind === 'skipped' || d.kind === 'failed' ? now : null;
    return sql`(${t.id}::uuid, ${status}::text, ${op}::uuid, ${
      d.kind === 'skipped' ? d.reason : null
    }::text, ${d.kind === 'failed' ? d.error : null}::text, ${ended}::timestamptz, ${
      d.kind === 'deferred' ? d.at : null
    }::timestamptz, ${d.kind === 'deferred' ? d.busySince : null}::timestamptz, ${
      d.kind === 'start' ? (locked.get(t.instanceId)?.imageTag ?? null) : null
    }::text)`;
  });
  const written = await tx.execute(sql`
    update ${scheduledActionTargets} as t set
      ${claimAssignments(now)},
      status = v.status,
      operation_id = coalesce(v.operation_id, t.operation_id),
      skip_reason = v.skip_reason,
      error = v.error,
      finished_at = v.finished_at,
      next_attempt_at = coalesce(v.next_attempt_at, t.next_attempt_at),
      busy_since = coalesce(v.busy_since, t.busy_since),
      source_image_tag = coalesce(v.source_image_tag, t.source_image_tag)
    from (values ${sql.join(rows, sql`, `)})
      as v(id, status, operation_id, skip_reason, error, finished_at, next_attempt_at, busy_since, source_image_tag)
    where t.id = v.id and t.status = 'pending'`);
  const count = (written as unknown as { rowCount?: number | null }).rowCount;
  // The rows are locked by this transaction: anything else means a bug, and it rolls back.
  if (typeof count === 'number' && count !== decisions.length)
    throw new Error(`claimed ${count} of ${decisions.length} targets`);
}
