// One recovery step under its claim, and the recording of its outcome: advance, retry with
// backoff, wait for a host or capacity, or fail and clean up. One state transition
// (docs/recovery.md), seen from each of the outcomes a step can have.
import { FlyApiError } from '../adapters/fly/errors.ts';
import type { Deps } from '../deps.ts';
import { classifyFlyError } from '../fleet/operations/fly-steps.ts';
import { instanceForRecovery } from '../fleet/recovery-moves.ts';
import { ClaimLost, leaseKeeper } from '../lib/work/index.ts';
import {
  getRecovery,
  type Recovery,
  recoveryDoorbell,
  retryBackoffMs,
  stepBackoffMs,
  waitBackoffMs,
} from './model.ts';
import { cleanUpReplacement, type StepInput, type StepOutcome, stepWork } from './steps.ts';
import { claimRecovery, cutOver, endRecovery, handBackRecovery, saveProgress } from './store.ts';
import { recoveryUnits } from './units.ts';

export type RecoveryRun =
  | { outcome: 'skipped'; reason: 'unknown' | 'finished' | 'held' | 'early' }
  | { outcome: 'continued' | 'finished'; recovery: Recovery }
  | { outcome: 'claim_lost' };

/** Rings the recovery's next step; a failure is logged and left to the sweep. */
export async function ringRecovery(deps: Pick<Deps, 'doorbells' | 'log'>, r: Recovery) {
  try {
    await deps.doorbells.ring(recoveryDoorbell(r));
  } catch (err) {
    deps.log.warn('recovery.ring_failed', { recoveryId: r.id, error: err, hint: 'swept later' });
  }
}

/**
 * One doorbell of a recovery: re-reads and claims it (one guarded statement with a lease,
 * committed before any Fly call), runs the work of the step it is in, records the outcome
 * (guarded by the claim) and rings the next step. A duplicate, late or early doorbell
 * finds nothing to claim and changes nothing; a handler that stalled past its lease finds
 * its writes refused. Retries of a step are bounded (`config.recovery.stepRetries`) with
 * capped exponential backoff ({@link stepBackoffMs}); a step that fails for good leads,
 * in place, to relocation (when allowed), otherwise to the removal of the replacement
 * resources made so far and `failed`.
 */
export async function runRecoveryStep(
  deps: Deps,
  input: { recoveryId: string },
): Promise<RecoveryRun> {
  const started = performance.now();
  const { leaseMs, stepBudgetMs, flyTimeoutMs } = deps.config.work;
  const r = await claimRecovery(deps.db, input.recoveryId, deps.clock.now(), leaseMs);
  if (!r) return unclaimed(deps, input.recoveryId);
  // Every Fly call starts with at least one call's time left on the lease (src/lib/work).
  const lease = leaseKeeper({
    db: deps.db,
    units: recoveryUnits,
    claim: r,
    clock: deps.clock,
    leaseMs,
    needMs: flyTimeoutMs + stepBudgetMs + 1000,
  });
  const stepDeps: Deps = {
    ...deps,
    fly: lease.guard(deps.fly),
    gateway: lease.guard(deps.gateway),
  };
  try {
    const instance = await instanceForRecovery(deps.db, r.instanceId);
    if (!instance) return finished(await endRecovery(deps, r, fail('the instance is gone'), now()));
    const stepInput: StepInput = {
      deps: stepDeps,
      r,
      instance,
      budgetMs: stepBudgetMs - (performance.now() - started),
    };
    if (r.failReason) return await failWithCleanup(stepInput, r.failReason);
    // The instance's deprovision took its hold while this recovery ran (docs/seams.md): the
    // step in flight was its last. Before the cut-over the replacement is removed; after it
    // the instance already runs on the replacement, which the deprovision destroys itself.
    if (instance.deprovisioning && r.step !== 'cut_over')
      return await failWithCleanup(
        stepInput,
        'deprovisioned: the instance is being deprovisioned; what this recovery made is removed',
      );
    const work = stepWork(r.step);
    if (!work) return finished(await endRecovery(deps, r, fail(`unknown step ${r.step}`), now()));
    let outcome: StepOutcome;
    try {
      outcome = await work(stepInput);
    } catch (err) {
      if (err instanceof ClaimLost || !(err instanceof FlyApiError)) throw err;
      const c = classifyFlyError(err, r.step.replaceAll('_', ' '), flyTimeoutMs);
      outcome =
        c.kind === 'retry'
          ? { kind: 'retry', error: c.note, inMs: c.inMs }
          : { kind: 'fail', error: c.kind === 'fail' ? c.error : String(err) };
    }
    return await record(stepInput, outcome);
  } catch (err) {
    if (err instanceof ClaimLost) {
      deps.log.warn('recovery.claim_lost', { recoveryId: r.id, step: r.step });
      return { outcome: 'claim_lost' };
    }
    throw err;
  }

  function now() {
    return deps.clock.now();
  }
}

const fail = (error: string) => ({ ok: false as const, error });
const finished = (recovery: Recovery): RecoveryRun => ({ outcome: 'finished', recovery });

async function continued(deps: Deps, next: Recovery): Promise<RecoveryRun> {
  await ringRecovery(deps, next);
  return { outcome: 'continued', recovery: next };
}

/** Writes what the step decided and rings what follows. */
async function record(i: StepInput, outcome: StepOutcome): Promise<RecoveryRun> {
  const { r } = i;
  const deps = i.deps;
  const now = deps.clock.now();
  const later = (ms = 0) => new Date(now.getTime() + ms);
  switch (outcome.kind) {
    case 'advance':
      return continued(
        deps,
        await handBackRecovery(deps, r, {
          at: later(outcome.inMs),
          now,
          patch: outcome.patch,
          advanceTo: outcome.to,
          note: outcome.note,
        }),
      );
    case 'wait':
      return continued(
        deps,
        await handBackRecovery(deps, r, { at: later(outcome.inMs), now, patch: outcome.patch }),
      );
    case 'waiting': {
      // Nothing is destroyed and nothing counts as failed: the step looks again later.
      // A new wait (or another reason) is told once; a wait resumed after a try in the
      // next region (placing steps keep `waits`) is the same wait.
      const entering = r.waits === 0 || (r.waitingFor !== null && r.waitingFor !== outcome.on);
      const waits = r.waits + 1;
      if (entering)
        deps.log.info('recovery.waiting', {
          recoveryId: r.id,
          step: r.step,
          waitingFor: outcome.on,
          reason: outcome.reason,
        });
      return continued(
        deps,
        await handBackRecovery(deps, r, {
          at: later(waitBackoffMs(waits, deps.config.recovery.waitMaxMs)),
          now,
          patch: {
            ...outcome.patch,
            waitingFor: outcome.on,
            waitingSince: entering ? now : (r.waitingSince ?? now),
            waits,
            lastError: outcome.reason,
            stepFailures: 0,
          },
          event: entering
            ? {
                type: 'recovery_waiting',
                payload: {
                  recoveryId: r.id,
                  step: r.step,
                  waitingFor: outcome.on,
                  reason: outcome.reason,
                },
              }
            : undefined,
        }),
      );
    }
    case 'retry': {
      if (r.stepFailures + 1 >= deps.config.recovery.stepRetries)
        return record(i, {
          kind: 'fail',
          error: `${outcome.error} (${r.stepFailures + 1} tries)`,
        });
      const backoff = Math.max(outcome.inMs ?? 0, stepBackoffMs(r.stepFailures + 1));
      return continued(
        deps,
        await handBackRecovery(deps, r, {
          at: later(backoff),
          now,
          patch: outcome.patch,
          failed: outcome.error,
        }),
      );
    }
    case 'fail':
      // After the cut-over the instance runs on the replacement: only the old volume's
      // disposal can fail, and that must not undo the move.
      if (r.step === 'cut_over')
        return finished(
          await endRecovery(
            deps,
            r,
            {
              ok: true,
              machineVersion: r.newMachineVersion,
              note: `old volume ${r.oldVolumeId} not deleted: ${outcome.error}`,
            },
            now,
          ),
        );
      if (r.step === 'in_place_start' && deps.config.recovery.relocation)
        return continued(
          deps,
          await handBackRecovery(deps, r, {
            at: now,
            now,
            advanceTo: 'started',
            patch: { lastError: `in place: ${outcome.error}` },
            note: `in place failed (${outcome.error}); relocating`,
          }),
        );
      return failWithCleanup(i, outcome.error);
    case 'succeed':
      return finished(
        await endRecovery(
          deps,
          r,
          {
            ok: true,
            machineVersion: outcome.machineVersion,
            patch: outcome.patch,
            note: outcome.note,
          },
          now,
        ),
      );
    case 'cut_over':
      return continued(deps, await cutOver(deps, r, { retainUntil: outcome.retainUntil, now }));
  }
}

/**
 * A step failed for good: the reason is saved first (so a crash during the clean-up
 * resumes it), the replacement machine and volume made so far are removed, and the
 * recovery ends `failed` with the instance `stopped` and a `retryAt` for reconcile
 * ({@link retryBackoffMs}). A clean-up that Fly refuses for now
 * is tried again later, within the step's retries; past them the recovery fails anyway,
 * saying what was left behind.
 */
async function failWithCleanup(i: StepInput, reason: string): Promise<RecoveryRun> {
  const { deps, r } = i;
  let current = r;
  if (!r.failReason && (r.newMachineId || r.newVolumeId)) {
    // Saved with the claim kept: the clean-up follows in this callback.
    await saveProgress(deps.db, r, { failReason: reason }, deps.clock.now());
    current = { ...r, failReason: reason };
  }
  try {
    // An in-place start makes nothing; from relocation on, what was made is removed.
    if (r.step !== 'in_place_start') await cleanUpReplacement({ ...i, r: current });
  } catch (err) {
    if (!(err instanceof FlyApiError)) throw err;
    if (current.stepFailures + 1 < deps.config.recovery.stepRetries) {
      const now = deps.clock.now();
      return continued(
        deps,
        await handBackRecovery(deps, current, {
          at: new Date(now.getTime() + stepBackoffMs(current.stepFailures + 1)),
          now,
          failed: `clean-up: ${err.message}`,
        }),
      );
    }
    reason = `${reason}; the clean-up failed too (${err.message}): machine ${current.newMachineId ?? '-'}, volume ${current.newVolumeId ?? '-'} may be left`;
  }
  // The instance is left stopped on its old volume; reconcile resumes the recovery later.
  const now = deps.clock.now();
  const retryAt =
    deps.config.recovery.enabled && !i.instance.deprovisioning
      ? new Date(now.getTime() + retryBackoffMs(r.autoRetries, deps.config.recovery.retryMaxMs))
      : null;
  return finished(await endRecovery(deps, current, { ok: false, error: reason, retryAt }, now));
}

/**
 * Nothing was claimed: unknown, finished, held by a live handler, or early (its handler
 * rings again for the due time; the sweep rings anything overdue).
 */
async function unclaimed(deps: Deps, id: string): Promise<RecoveryRun> {
  const existing = await getRecovery(deps.db, id);
  if (!existing) return { outcome: 'skipped', reason: 'unknown' };
  if (existing.status === 'succeeded' || existing.status === 'failed')
    return { outcome: 'skipped', reason: 'finished' };
  if (existing.nextAttemptAt > deps.clock.now()) {
    try {
      await deps.doorbells.ring(
        recoveryDoorbell(existing, `early-${existing.nextAttemptAt.getTime()}`),
      );
    } catch (err) {
      deps.log.warn('recovery.ring_failed', { recoveryId: id, error: err });
    }
    return { outcome: 'skipped', reason: 'early' };
  }
  return { outcome: 'skipped', reason: 'held' };
}
