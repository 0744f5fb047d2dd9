import { eq } from 'drizzle-orm';
import { instances } from '../../../db/schema/index.ts';
import type { Deps } from '../../deps.ts';
import { callStep, classifyFlyError, probeStep, type StepResult, settleStep } from './fly-steps.ts';
import { CALLBACK_BUDGET_MS, getOperation, type Operation } from './model.ts';
import { provisionCallStep } from './provision-step.ts';
import { ringStep } from './request.ts';
import { claimOperation, finishOperation, saveProgress, scheduleNext } from './store.ts';

export type StepRun =
  | { outcome: 'skipped'; reason: 'unknown' | 'finished' | 'not_due_or_held' }
  | { outcome: 'continued'; operation: Operation }
  | { outcome: 'finished'; operation: Operation }
  | { outcome: 'lease_lost' };

class LeaseLost extends Error {}

/** Kinds whose Fly call is an update: the version before it is recorded first. */
const UPDATES = new Set(['restart', 'version_change']);

async function runOne(
  deps: Deps,
  op: Operation,
  budgetMs: number,
): Promise<{ result: StepResult; op: Operation }> {
  const [instance] = await deps.db.select().from(instances).where(eq(instances.id, op.instanceId));
  if (!instance) return { result: { kind: 'fail', error: 'The instance was deleted.' }, op };
  const target = {
    appName: instance.appName,
    machineId: instance.machineId ?? '',
    imageTag: instance.imageTag,
  };
  try {
    if (op.step === 'call') {
      if (op.kind === 'provision')
        return { result: await provisionCallStep(deps, op, instance), op };
      const machine = await deps.fly.getMachine(target.appName, target.machineId);
      if (UPDATES.has(op.kind) && !op.previousVersion) {
        // Committed before the update, so a rerun recognises its own update and does not repeat it.
        const saved = await saveProgress(
          deps.db,
          op,
          { previousVersion: machine.instance_id },
          deps.clock.now(),
        );
        if (!saved) throw new LeaseLost();
        op = saved;
      }
      return { result: await callStep(deps, op, target, machine), op };
    }
    if (op.step === 'settle') return { result: await settleStep(deps, op, target, budgetMs), op };
    return { result: await probeStep(deps, op, target), op };
  } catch (err) {
    if (err instanceof LeaseLost) throw err;
    return {
      result: classifyFlyError(
        err,
        op.step === 'call' ? `${op.kind.replace('_', ' ')} call` : `${op.step} step`,
      ),
      op,
    };
  }
}

/**
 * Runs an operation as far as one callback may (about 15 s), then rings its own
 * continuation. Each step is preceded by the claim (with a lease) and its outcome is written
 * guarded by that lease, so duplicate or late doorbells do nothing and a crash is resumed
 * by the sweep without calling Fly twice for the same step. Past the deadline the action
 * fails, saying where it stopped.
 */
export async function runOperationStep(
  deps: Deps,
  input: { operationId: string },
): Promise<StepRun> {
  const started = performance.now();
  let op = await claimOperation(deps.db, input.operationId, deps.clock.now());
  if (!op) {
    const existing = await getOperation(deps.db, input.operationId);
    if (!existing) return { outcome: 'skipped', reason: 'unknown' };
    return {
      outcome: 'skipped',
      reason:
        existing.status === 'succeeded' || existing.status === 'failed'
          ? 'finished'
          : 'not_due_or_held',
    };
  }
  for (;;) {
    const now = deps.clock.now();
    if (now > op.deadlineAt) {
      const where = op.lastNote ? ` Last: ${op.lastNote}.` : '';
      const done = await finishOperation(
        deps,
        op,
        { ok: false, error: `Did not finish by its deadline (step: ${op.step}).${where}` },
        now,
      );
      return done ? { outcome: 'finished', operation: done } : { outcome: 'lease_lost' };
    }
    const budgetMs = CALLBACK_BUDGET_MS - (performance.now() - started);
    let result: StepResult;
    try {
      ({ result, op } = await runOne(deps, op, budgetMs));
    } catch (err) {
      if (err instanceof LeaseLost) return { outcome: 'lease_lost' };
      throw err;
    }
    const at = deps.clock.now();
    if (result.kind === 'done' || result.kind === 'fail') {
      const done = await finishOperation(
        deps,
        op,
        result.kind === 'done'
          ? { ok: true, version: result.version }
          : { ok: false, error: result.error },
        at,
      );
      if (done)
        deps.log.info('operation.finished', {
          operationId: op.id,
          kind: op.kind,
          status: done.status,
          error: done.error,
        });
      return done ? { outcome: 'finished', operation: done } : { outcome: 'lease_lost' };
    }
    if (result.kind === 'retry') {
      const next = await scheduleNext(
        deps.db,
        op,
        new Date(at.getTime() + result.inMs),
        result.note,
        at,
        result.patch,
      );
      if (!next) return { outcome: 'lease_lost' };
      await ringStep(deps, next);
      return { outcome: 'continued', operation: next };
    }
    const saved = await saveProgress(deps.db, op, { ...result.patch, lastNote: null }, at);
    if (!saved) return { outcome: 'lease_lost' };
    op = saved;
    if (performance.now() - started > CALLBACK_BUDGET_MS) {
      const next = await scheduleNext(deps.db, op, at, 'continuing in a new callback', at);
      if (!next) return { outcome: 'lease_lost' };
      await ringStep(deps, next);
      return { outcome: 'continued', operation: next };
    }
  }
}
