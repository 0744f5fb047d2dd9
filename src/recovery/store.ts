// A recovery's guarded writes (src/lib/work): the claim, and every write after it,
// matched on the claim token; a write that matches nothing has lost the claim.
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { type RecoveryHistoryEntry, recoveries } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import { recordInstanceEvent } from '../fleet/events.ts';
import { cutOverInstance, endRecoveryOnInstance } from '../fleet/recovery-moves.ts';
import { claimUnit, handBack, later, writeHeld } from '../lib/work/index.ts';
import type { Recovery, RecoveryStep } from './model.ts';
import { recoveryUnits } from './units.ts';

/** Fields a step may write on its recovery. */
export type RecoveryPatch = Partial<
  Pick<
    Recovery,
    | 'newMachineId'
    | 'newVolumeId'
    | 'newMachineVersion'
    | 'regionTried'
    | 'regionIndex'
    | 'volumeSource'
    | 'lastError'
    | 'stepDeadlineAt'
    | 'retainedVolumeId'
    | 'retainUntil'
    | 'oldVolumeDeletedAt'
    | 'inPlace'
    | 'failReason'
    | 'waitingFor'
    | 'waitingSince'
    | 'waits'
    | 'oldMachineDestroyedAt'
    | 'stepFailures'
  >
>;

/**
 * Claims a recovery for one step: active, due and not leased by a live handler. One
 * statement sets `running`, a fresh claim token, a lease of `leaseMs`, and counts the
 * claim and the step's claim; it commits before any Fly call. Null: nothing to do.
 */
export function claimRecovery(
  db: Db,
  id: string,
  now: Date,
  leaseMs: number,
): Promise<Recovery | null> {
  return claimUnit(db, recoveryUnits, id, {
    now,
    leaseUntil: later(now, leaseMs),
    set: { status: 'running', updatedAt: now, stepClaims: sql`${recoveries.stepClaims} + 1` },
  });
}

const entry = (step: RecoveryStep, now: Date, note?: string): RecoveryHistoryEntry => ({
  step,
  at: now.toISOString(),
  ...(note ? { note } : {}),
});

/**
 * Steps that belong to placing the replacement: moving between them (a machine refused
 * for capacity sends the recovery back for the next region) keeps the wait count and
 * since when it waits, so the backoff of a recovery waiting for capacity keeps growing.
 */
const PLACING: RecoveryStep[] = ['started', 'volume_created'];

/**
 * Writes a step's progress and gives the claim back until `at` (the continuation rings
 * then). With `advanceTo`, the recovery enters that step: its claims and failures start
 * again from zero, it is no longer waiting, the history records it and the timeline gets
 * a `recovery_step` event. With `failed`, the try counts against the step's retries. With
 * `event`, that timeline event is recorded in the same transaction. Guarded by the claim.
 */
export async function handBackRecovery(
  deps: Pick<Deps, 'db' | 'log'>,
  r: Recovery,
  input: {
    at: Date;
    now: Date;
    patch?: RecoveryPatch;
    advanceTo?: RecoveryStep;
    failed?: string;
    note?: string;
    event?: { type: string; payload: Record<string, unknown> };
  },
): Promise<Recovery> {
  const { now, advanceTo } = input;
  return deps.db.transaction(async (tx) => {
    const row = await handBack(tx, recoveryUnits, r, input.at, {
      ...input.patch,
      updatedAt: now,
      status: 'pending',
      ...(advanceTo
        ? {
            step: advanceTo,
            stepClaims: 0,
            stepFailures: 0,
            waitingFor: null,
            ...(PLACING.includes(advanceTo) ? {} : { waits: 0, waitingSince: null }),
            history: sql`${recoveries.history} || ${JSON.stringify([entry(advanceTo, now, input.note)])}::jsonb`,
          }
        : {}),
      ...(input.failed
        ? { stepFailures: sql`${recoveries.stepFailures} + 1`, lastError: input.failed }
        : {}),
    });
    if (input.event)
      await recordInstanceEvent(tx, {
        instanceId: r.instanceId,
        type: input.event.type,
        payload: input.event.payload,
        at: now,
      });
    if (advanceTo) {
      await recordInstanceEvent(tx, {
        instanceId: r.instanceId,
        type: 'recovery_step',
        payload: { recoveryId: r.id, step: advanceTo, from: r.step, note: input.note ?? null },
        at: now,
      });
      deps.log.info('recovery.step', { recoveryId: r.id, step: advanceTo, from: r.step });
    }
    return row;
  });
}

/**
 * The cut-over, in one transaction guarded by the claim: the instance names the new
 * machine, volume and region and is `running`; the recovery enters `cut_over` with what
 * becomes of the old volume (retained until `retainUntil`, or to be deleted now).
 */
export async function cutOver(
  deps: Pick<Deps, 'db' | 'log'>,
  r: Recovery,
  input: { retainUntil: Date | null; now: Date },
): Promise<Recovery> {
  const { now } = input;
  return deps.db.transaction(async (tx) => {
    const row = await writeHeld(
      tx,
      recoveryUnits,
      r,
      {
        step: 'cut_over',
        status: 'pending',
        stepClaims: 0,
        stepFailures: 0,
        nextAttemptAt: now,
        updatedAt: now,
        lastError: null,
        retainedVolumeId: input.retainUntil ? r.oldVolumeId : null,
        retainUntil: input.retainUntil,
        history: sql`${recoveries.history} || ${JSON.stringify([entry('cut_over', now)])}::jsonb`,
      },
      { release: true },
    );
    const moved = await cutOverInstance(
      tx,
      r.instanceId,
      {
        machineId: r.newMachineId ?? '',
        volumeId: r.newVolumeId ?? '',
        region: r.regionTried ?? r.oldRegion,
        machineVersion: r.newMachineVersion,
      },
      now,
    );
    if (!moved) throw new Error(`instance ${r.instanceId} left recovering before the cut-over`);
    await recordInstanceEvent(tx, {
      instanceId: r.instanceId,
      type: 'recovery_step',
      payload: {
        recoveryId: r.id,
        step: 'cut_over',
        from: r.step,
        machineId: r.newMachineId,
        volumeId: r.newVolumeId,
        region: r.regionTried,
        oldVolume: input.retainUntil ? 'retained' : 'delete',
      },
      at: now,
    });
    deps.log.info('recovery.cut_over', {
      recoveryId: r.id,
      machineId: r.newMachineId,
      volumeId: r.newVolumeId,
    });
    return row;
  });
}

export type RecoveryEnd =
  | { ok: true; machineVersion: string | null; patch?: RecoveryPatch; note?: string }
  /** `retryAt`: when reconcile may resume it (null: only by hand). */
  | { ok: false; error: string; retryAt?: Date | null };

/**
 * Ends a recovery, in one transaction guarded by the claim: `succeeded` (the instance
 * `running`, if it was not already since the cut-over) or `failed` with the step, the
 * reason and when reconcile may resume it (the instance `stopped`, the reason on its
 * page), with the timeline event.
 * Returns the ended row; throws {@link ClaimLost} when another handler holds it.
 */
export async function endRecovery(
  deps: Pick<Deps, 'db' | 'log'>,
  r: Recovery,
  result: RecoveryEnd,
  now: Date,
): Promise<Recovery> {
  const durationMs = now.getTime() - r.startedAt.getTime();
  return deps.db.transaction(async (tx) => {
    const step: RecoveryStep = result.ok ? 'succeeded' : 'failed';
    const row = await writeHeld(
      tx,
      recoveryUnits,
      r,
      {
        ...(result.ok ? result.patch : {}),
        status: step,
        step,
        failedStep: result.ok ? null : r.step,
        failReason: null,
        waitingFor: null,
        waitingSince: null,
        retryAt: result.ok ? null : (result.retryAt ?? null),
        lastError: result.ok ? (result.note ?? null) : result.error,
        endedAt: now,
        updatedAt: now,
        history: sql`${recoveries.history} || ${JSON.stringify([entry(step, now, result.ok ? result.note : result.error)])}::jsonb`,
      },
      { release: true },
    );
    await endRecoveryOnInstance(
      tx,
      r.instanceId,
      result.ok
        ? { ok: true, machineVersion: result.machineVersion }
        : { ok: false, error: `Recovery failed (${r.step}): ${result.error}` },
      now,
    );
    await recordInstanceEvent(tx, {
      instanceId: r.instanceId,
      type: result.ok ? 'recovery_succeeded' : 'recovery_failed',
      payload: result.ok
        ? { recoveryId: r.id, durationMs, inPlace: row.inPlace, note: result.note ?? null }
        : {
            recoveryId: r.id,
            durationMs,
            step: r.step,
            reason: result.error,
            retryAt: result.retryAt?.toISOString() ?? null,
          },
      at: now,
    });
    const fields = { recoveryId: r.id, instanceId: r.instanceId, durationMs, inPlace: row.inPlace };
    if (result.ok) deps.log.info('recovery.succeeded', fields);
    else deps.log.warn('recovery.failed', { ...fields, step: r.step, reason: result.error });
    return row;
  });
}

/** Writes fields without giving the claim back (an id made by Fly, saved at once). */
export async function saveProgress(
  db: Db,
  r: Recovery,
  patch: RecoveryPatch,
  now: Date,
): Promise<void> {
  await writeHeld(db, recoveryUnits, r, { ...patch, updatedAt: now });
}
