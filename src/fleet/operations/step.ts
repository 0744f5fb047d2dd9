import type { Deps } from '../../deps.ts';
import { ClaimLost, leaseKeeper } from '../../lib/work/index.ts';
import { callStep, classifyFlyError, probeStep, type StepResult, settleStep } from './fly-steps.ts';
import { getOperation, type Operation, stepDoorbell } from './model.ts';
import { provisionCallStep } from './provision-step.ts';
import { ringStep } from './request.ts';
import {
  claimStep,
  finishOperation,
  handBack,
  type StepInstance,
  type StepPatch,
} from './store.ts';
import { operationUnits } from './units.ts';

export type StepRun =
  | { outcome: 'skipped'; reason: 'unknown' | 'finished' | 'held' }
  | { outcome: 'early'; dueAt: Date }
  | { outcome: 'continued'; operation: Operation }
  | { outcome: 'finished'; operation: Operation }
  | { outcome: 'claim_lost' };

async function runOne(
  deps: Deps,
  op: Operation,
  instance: StepInstance | null,
  budgetMs: number,
): Promise<StepResult> {
  if (!instance) return { kind: 'fail', error: 'The instance was deleted.' };
  try {
    if (op.step === 'call' && op.kind === 'provision')
      return await provisionCallStep(deps, op, instance);
    const target = {
      appName: instance.appName,
      machineId: instance.machineId ?? '',
      imageTag: instance.imageTag,
    };
    if (op.step === 'call') return await callStep(deps, op, target);
    if (op.step === 'settle') return await settleStep(deps, op, target, budgetMs);
    return await probeStep(deps, op, target);
  } catch (err) {
    if (err instanceof ClaimLost) throw err;
    return classifyFlyError(
      err,
      op.step === 'call' ? `${op.kind.replace('_', ' ')} call` : `${op.step} step`,
      deps.config.work.flyTimeoutMs,
    );
  }
}

/**
 * One doorbell of an operation: claims it (src/lib/work), then runs steps (call,
 * settle, probe) for as long as the step budget allows (`config.work.stepBudgetMs`, 5 s by
 * default), keeping progress in memory, and then either finishes it or hands it back with
 * that progress and rings its own continuation. Every write is guarded by the claim, so a
 * duplicate or late doorbell does nothing and a stalled handler that lost its lease changes
 * nothing. A doorbell that arrives before the operation is due rings again for its due time
 * (deduplicated on the early message) instead of being dropped. Past the deadline the
 * action fails, saying where it stopped.
 */
export async function runOperationStep(
  deps: Deps,
  input: { operationId: string; messageId?: string | null },
): Promise<StepRun> {
  const started = performance.now();
  const { leaseMs, stepBudgetMs } = deps.config.work;
  let claimed = await claimStep(deps.db, input.operationId, deps.clock.now(), leaseMs);
  if (!claimed) {
    const early = await unclaimed(deps, input);
    if (early.outcome !== 'early') return early;
    // A little early (QStash's clock ahead of ours): wait here, once, then claim.
    const ahead = early.dueAt.getTime() - deps.clock.now().getTime();
    if (ahead > Math.min(EARLY_WAIT_MS, stepBudgetMs)) return ringEarly(deps, input, early.dueAt);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, ahead)));
    claimed = await claimStep(deps.db, input.operationId, deps.clock.now(), leaseMs);
    if (!claimed) return ringEarly(deps, input, early.dueAt);
  }
  let { op } = claimed;
  const instance = claimed.instance;
  let progress: StepPatch = {};
  // Every Fly request of this callback starts with at least one request's time left on
  // the lease (renewed, guarded by the claim, when it runs short), so a live handler never
  // loses its claim in the middle of a call; a frozen one does, and its writes are refused.
  const lease = leaseKeeper({
    db: deps.db,
    units: operationUnits,
    claim: op,
    clock: deps.clock,
    leaseMs,
    needMs: deps.config.work.flyTimeoutMs + stepBudgetMs + 1000,
  });
  const stepDeps: Deps = {
    ...deps,
    fly: lease.guard(deps.fly),
    gateway: lease.guard(deps.gateway),
  };
  try {
    for (;;) {
      const now = deps.clock.now();
      if (now > op.deadlineAt) {
        const where = op.lastNote ? ` Last: ${op.lastNote}.` : '';
        return finished(
          await finishOperation(
            deps,
            op,
            { ok: false, error: `Did not finish by its deadline (step: ${op.step}).${where}` },
            now,
            progress,
          ),
        );
      }
      const elapsed = performance.now() - started;
      const result = await runOne(stepDeps, op, instance, stepBudgetMs - elapsed);
      const at = deps.clock.now();
      if (result.kind === 'done' || result.kind === 'fail') {
        const done = await finishOperation(
          deps,
          op,
          result.kind === 'done'
            ? { ok: true, version: result.version }
            : { ok: false, error: result.error },
          at,
          progress,
        );
        if (done)
          deps.log.info('operation.finished', {
            operationId: op.id,
            kind: op.kind,
            status: done.status,
            error: done.error,
          });
        return finished(done);
      }
      if (result.kind === 'retry') {
        const next = await handBack(deps.db, op, {
          at: new Date(at.getTime() + result.inMs),
          note: result.note,
          patch: { ...progress, ...result.patch },
          now: at,
        });
        await ringStep(deps, next);
        return { outcome: 'continued', operation: next };
      }
      progress = { ...progress, ...result.patch };
      op = { ...op, ...result.patch, lastNote: null };
      if (performance.now() - started > stepBudgetMs) {
        const next = await handBack(deps.db, op, {
          at,
          note: 'continuing in a new callback',
          patch: progress,
          now: at,
        });
        await ringStep(deps, next);
        return { outcome: 'continued', operation: next };
      }
    }
  } catch (err) {
    if (err instanceof ClaimLost) {
      deps.log.warn('operation.claim_lost', { operationId: op.id, attempts: op.attempts });
      return { outcome: 'claim_lost' };
    }
    throw err;
  }
}

const finished = (done: Operation | null): StepRun =>
  done ? { outcome: 'finished', operation: done } : { outcome: 'claim_lost' };

/** Early by more than this (ms) is not waited out in the handler; the step rings again. */
const EARLY_WAIT_MS = 5_000;

/**
 * Nothing was claimed: unknown, finished, held by a live handler (which rings its own
 * continuation), or not due yet — the doorbell came early (QStash's clock ahead of ours).
 */
async function unclaimed(deps: Deps, input: { operationId: string }): Promise<StepRun> {
  const existing = await getOperation(deps.db, input.operationId);
  if (!existing) return { outcome: 'skipped', reason: 'unknown' };
  if (existing.status === 'succeeded' || existing.status === 'failed')
    return { outcome: 'skipped', reason: 'finished' };
  if (existing.nextCheckAt > deps.clock.now())
    return { outcome: 'early', dueAt: existing.nextCheckAt };
  return { outcome: 'skipped', reason: 'held' };
}

/**
 * Rings the step again for its due time, deduplicated on that due time: while QStash's
 * clock runs ahead of ours, a re-ring per early message would arrive early again and ring
 * anew without end. Should it still arrive early, the dedup drops it and the sweep rings it.
 */
async function ringEarly(
  deps: Deps,
  input: { operationId: string },
  dueAt: Date,
): Promise<StepRun> {
  const op = { id: input.operationId, attempts: 0, nextCheckAt: dueAt };
  try {
    await deps.doorbells.ring(stepDoorbell(op, `early-${dueAt.getTime()}`));
  } catch (err) {
    deps.log.warn('operation.ring_failed', { operationId: input.operationId, error: err });
  }
  return { outcome: 'early', dueAt };
}
