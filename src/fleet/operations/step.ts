import type { Deps } from '../../deps.ts';
import { ClaimLost } from '../../lib/claims.ts';
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
    );
  }
}

/**
 * One doorbell of an operation: claims it (src/lib/claims.ts), then runs steps (call,
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
  const claimed = await claimStep(deps.db, input.operationId, deps.clock.now(), leaseMs);
  if (!claimed) return unclaimed(deps, input);
  let { op } = claimed;
  const instance = claimed.instance;
  let progress: StepPatch = {};
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
      const result = await runOne(deps, op, instance, stepBudgetMs - elapsed);
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

/**
 * Nothing was claimed: unknown, finished, held by a live handler (which rings its own
 * continuation), or not due yet — then the doorbell came early (QStash's clock ahead of
 * ours) and rings again for the due time.
 */
async function unclaimed(
  deps: Deps,
  input: { operationId: string; messageId?: string | null },
): Promise<StepRun> {
  const existing = await getOperation(deps.db, input.operationId);
  if (!existing) return { outcome: 'skipped', reason: 'unknown' };
  if (existing.status === 'succeeded' || existing.status === 'failed')
    return { outcome: 'skipped', reason: 'finished' };
  const now = deps.clock.now();
  if (existing.nextCheckAt > now) {
    const purpose = `early-${input.messageId ?? existing.nextCheckAt.getTime()}`;
    try {
      await deps.doorbells.ring(stepDoorbell(existing, purpose));
    } catch (err) {
      deps.log.warn('operation.ring_failed', { operationId: existing.id, error: err });
    }
    return { outcome: 'early', dueAt: existing.nextCheckAt };
  }
  return { outcome: 'skipped', reason: 'held' };
}
