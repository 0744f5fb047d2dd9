import { FlyApiError } from '../adapters/fly/errors.ts';
import type { Deps } from '../deps.ts';
import { beginDestroying, lockForDeprovision, markDestroyed } from '../fleet/deprovision-moves.ts';
import { recordInstanceEvent } from '../fleet/events.ts';
import { classifyFlyError } from '../fleet/operations/fly-steps.ts';
import {
  ClaimLost,
  claimUnit,
  handBack,
  later,
  leaseKeeper,
  writeHeld,
} from '../lib/work/index.ts';
import {
  type Deprovision,
  deprovisionDoorbell,
  getDeprovision,
  stepBackoffMs,
  WAIT_MS,
} from './model.ts';
import { ringDeprovision } from './request.ts';
import {
  deleteRetained,
  destroyMachine,
  endWork,
  type StepInput,
  type StepOutcome,
  settleVolume,
} from './steps.ts';
import { deprovisionUnits } from './units.ts';

export type DeprovisionRun =
  | { outcome: 'skipped'; reason: 'unknown' | 'finished' | 'held' | 'early' }
  | { outcome: 'continued' | 'finished'; deprovision: Deprovision }
  | { outcome: 'claim_lost' };

/**
 * One doorbell of a deprovision: claims it (one guarded statement with a lease, committed
 * before any Fly call), runs the work of the step it is in, records the outcome guarded by
 * the claim (with the instance's move and timeline event in the same transaction) and
 * rings the next step. A duplicate, late or early doorbell finds nothing to claim and
 * changes nothing; a handler that stalled past its lease finds its writes refused. A step
 * never gives up: Fly's refusals and lost answers are tried again with capped backoff
 * ({@link stepBackoffMs}), the reason in `last_note`.
 */
export async function runDeprovisionStep(
  deps: Deps,
  input: { deprovisionId: string },
): Promise<DeprovisionRun> {
  const { leaseMs, stepBudgetMs, flyTimeoutMs } = deps.config.work;
  const now = deps.clock.now();
  const d = await claimUnit(deps.db, deprovisionUnits, input.deprovisionId, {
    now,
    leaseUntil: later(now, leaseMs),
    set: { status: 'running', updatedAt: now },
  });
  if (!d) return unclaimed(deps, input.deprovisionId);
  // Every Fly call starts with at least one call's time left on the lease (src/lib/work).
  const lease = leaseKeeper({
    db: deps.db,
    units: deprovisionUnits,
    claim: d,
    clock: deps.clock,
    leaseMs,
    needMs: flyTimeoutMs + stepBudgetMs + 1000,
  });
  const i: StepInput = { deps: { ...deps, fly: lease.guard(deps.fly) }, d };
  try {
    if (d.step === 'waiting') return await takeInstance(deps, d);
    let outcome: StepOutcome;
    try {
      outcome = await work(i);
    } catch (err) {
      // Anything but Fly's own answer (a bug, a crash) leaves the claim to its lease: the
      // sweep returns it and the step runs again, looking before it calls Fly.
      if (!(err instanceof FlyApiError)) throw err;
      return await retry(deps, d, describe(err, d, flyTimeoutMs));
    }
    return await record(deps, d, outcome);
  } catch (err) {
    if (err instanceof ClaimLost) {
      deps.log.warn('deprovision.claim_lost', { deprovisionId: d.id, step: d.step });
      return { outcome: 'claim_lost' };
    }
    throw err;
  }
}

function work(i: StepInput): Promise<StepOutcome> {
  switch (i.d.step) {
    case 'ending_work':
      return endWork(i);
    case 'destroying_machine':
      return destroyMachine(i);
    case 'deleting_volume':
      return settleVolume(i);
    default:
      return deleteRetained(i);
  }
}

function describe(
  err: FlyApiError,
  d: Deprovision,
  timeoutMs: number,
): { note: string; inMs: number } {
  const c = classifyFlyError(err, d.step.replaceAll('_', ' '), timeoutMs);
  if (c.kind === 'retry') return { note: c.note, inMs: c.inMs };
  return { note: c.kind === 'fail' ? c.error : err.message, inMs: 0 };
}

/**
 * The `waiting` step: the instance becomes `destroying` once no operation runs on it and no
 * recovery step is in flight (a recovery sees the hold at its next step and ends
 * `failed`, "deprovisioned"); until then it looks again every {@link WAIT_MS}.
 */
async function takeInstance(deps: Deps, d: Deprovision): Promise<DeprovisionRun> {
  const now = deps.clock.now();
  const next = await deps.db.transaction(async (tx) => {
    const target = await lockForDeprovision(tx, d.instanceId);
    const wait = target ? await beginDestroying(tx, target, d.id, now) : null;
    if (wait) {
      const note =
        wait.kind === 'operation'
          ? `waiting for ${wait.what} to end (operation ${wait.id})`
          : wait.kind === 'recovery'
            ? "waiting for the recovery's current step to end"
            : 'the instance is no longer held by this deprovision';
      return handBack(tx, deprovisionUnits, d, later(now, WAIT_MS), {
        status: 'pending',
        lastNote: note,
        updatedAt: now,
      });
    }
    // What is destroyed is what the instance has now (a recovery that cut over before it
    // saw the hold moved it to its replacement machine and volume).
    const moved =
      target && (target.machineId !== d.machineId || target.volumeId !== d.volumeId)
        ? { machineId: target.machineId, volumeId: target.volumeId }
        : {};
    return advance(tx, deps, d, {
      kind: 'advance',
      to: 'ending_work',
      patch: moved,
      note: `the instance is destroying (machine ${target?.machineId ?? '-'}, volume ${target?.volumeId ?? '-'})`,
    });
  });
  await ringDeprovision(deps, next);
  return { outcome: 'continued', deprovision: next };
}

async function advance(
  tx: Deps['db'],
  deps: Deps,
  d: Deprovision,
  o: Extract<StepOutcome, { kind: 'advance' }>,
): Promise<Deprovision> {
  const now = deps.clock.now();
  const next = await handBack(tx, deprovisionUnits, d, now, {
    ...o.patch,
    status: 'pending',
    step: o.to,
    stepFailures: 0,
    lastNote: null,
    updatedAt: now,
  });
  await recordInstanceEvent(tx, {
    instanceId: d.instanceId,
    type: 'deprovision_step',
    payload: { deprovisionId: d.id, from: d.step, step: o.to, ...(o.note ? { note: o.note } : {}) },
    at: now,
  });
  return next;
}

/** Writes what the step decided (guarded by the claim) and rings what follows. */
async function record(deps: Deps, d: Deprovision, o: StepOutcome): Promise<DeprovisionRun> {
  const now = deps.clock.now();
  const row = await deps.db.transaction(async (tx) => {
    if (o.kind === 'advance') return advance(tx, deps, d, o);
    if (o.kind === 'wait')
      return handBack(tx, deprovisionUnits, d, later(now, WAIT_MS), {
        status: 'pending',
        lastNote: o.note,
        updatedAt: now,
      });
    if (o.kind === 'destroyed') {
      const retained = o.volume === 'retained' && o.retainUntil;
      await markDestroyed(tx, d.instanceId, d.id, now);
      const volume = {
        volumeOutcome: o.volume,
        destroyedAt: now,
        stepFailures: 0,
        lastNote: null,
        updatedAt: now,
        ...(o.volume === 'refused' ? { volumeNote: o.note ?? null } : {}),
        ...(o.volume === 'deleted' || o.volume === 'gone' ? { volumeDeletedAt: now } : {}),
      };
      const written = retained
        ? await handBack(tx, deprovisionUnits, d, o.retainUntil as Date, {
            ...volume,
            status: 'pending',
            step: 'retaining',
            retainUntil: o.retainUntil,
          })
        : await writeHeld(
            tx,
            deprovisionUnits,
            d,
            { ...volume, status: 'succeeded', step: 'destroyed', endedAt: now },
            { release: true },
          );
      await recordInstanceEvent(tx, {
        instanceId: d.instanceId,
        type: 'deprovisioned',
        payload: {
          deprovisionId: d.id,
          machineId: d.machineId,
          volumeId: d.volumeId,
          volume: o.volume,
          ...(o.retainUntil ? { retainUntil: o.retainUntil.toISOString() } : {}),
          ...(o.note ? { note: o.note } : {}),
        },
        at: now,
      });
      return written;
    }
    const written = await writeHeld(
      tx,
      deprovisionUnits,
      d,
      {
        status: 'succeeded',
        step: 'destroyed',
        volumeOutcome: o.volume === 'refused' ? 'refused' : 'deleted',
        ...(o.volume === 'refused' ? { volumeNote: o.note ?? null } : { volumeDeletedAt: now }),
        lastNote: null,
        endedAt: now,
        updatedAt: now,
      },
      { release: true },
    );
    await recordInstanceEvent(tx, {
      instanceId: d.instanceId,
      type: 'deprovision_volume_deleted',
      payload: { deprovisionId: d.id, volumeId: d.volumeId, volume: o.volume, note: o.note },
      at: now,
    });
    return written;
  });
  deps.log.info('deprovision.step', { deprovisionId: d.id, from: d.step, to: row.step });
  if (row.status === 'succeeded') return { outcome: 'finished', deprovision: row };
  // A retained volume's deletion is days away, past what a queue delay should carry: the
  // sweep rings it once its deadline has passed.
  if (row.step !== 'retaining') await ringDeprovision(deps, row);
  return { outcome: 'continued', deprovision: row };
}

/** A step that did not finish: tried again with backoff; the note says why. */
async function retry(
  deps: Deps,
  d: Deprovision,
  why: { note: string; inMs: number },
): Promise<DeprovisionRun> {
  const now = deps.clock.now();
  const failures = d.stepFailures + 1;
  const next = await handBack(
    deps.db,
    deprovisionUnits,
    d,
    later(now, Math.max(why.inMs, stepBackoffMs(failures))),
    { status: 'pending', stepFailures: failures, lastNote: why.note, updatedAt: now },
  );
  deps.log.warn('deprovision.retry', { deprovisionId: d.id, step: d.step, note: why.note });
  await ringDeprovision(deps, next);
  return { outcome: 'continued', deprovision: next };
}

/** Nothing was claimed: unknown, finished, held by a live handler, or early. */
async function unclaimed(deps: Deps, id: string): Promise<DeprovisionRun> {
  const existing = await getDeprovision(deps.db, id);
  if (!existing) return { outcome: 'skipped', reason: 'unknown' };
  if (existing.status === 'succeeded') return { outcome: 'skipped', reason: 'finished' };
  if (existing.nextAttemptAt > deps.clock.now()) {
    try {
      await deps.doorbells.ring(
        deprovisionDoorbell(existing, `early-${existing.nextAttemptAt.getTime()}`),
      );
    } catch (err) {
      deps.log.warn('deprovision.ring_failed', { deprovisionId: id, error: err });
    }
    return { outcome: 'skipped', reason: 'early' };
  }
  return { outcome: 'skipped', reason: 'held' };
}
