import { and, eq, sql } from 'drizzle-orm';
import { type CliRunCleanup, cliRuns } from '../../db/schema/index.ts';
import { isControllerError, outcomeUnknown } from '../adapters/controller/errors.ts';
import type { Deps } from '../deps.ts';
import { lookAtMachine } from '../fleet/machine-state.ts';
import { heldBy, released } from '../lib/work/index.ts';
import { sendCancel } from './controller-calls.ts';
import { continueAfter, type FollowRun } from './follow-write.ts';
import { type CliRun, targetOf } from './model.ts';

type Learned =
  | { kind: 'run'; runId: string }
  /** The controller never started this run: nothing of it is live. */
  | { kind: 'none' }
  | { kind: 'gone' }
  | { kind: 'unknown' };

/**
 * The controller's id of a run that ended before its start was confirmed: the start is sent
 * again with the run's key, which names the run the first attempt made (a replay). If that
 * attempt never reached the controller, this starts the run, and the cancel that follows
 * ends it: a run is never left live untracked.
 */
async function learnRunId(deps: Deps, run: CliRun): Promise<Learned> {
  try {
    const started = await deps.controller.startCliRun(targetOf(run), {
      prompt: run.prompt,
      idempotencyKey: run.id,
    });
    return { kind: 'run', runId: started.runId };
  } catch (error) {
    // Refused, or 409: a key the controller had seen would have been replayed before any
    // conflict, so another run is live and ours was never started.
    if (!outcomeUnknown(error)) return { kind: 'none' };
    if (!isControllerError(error, 'unreachable')) return { kind: 'unknown' };
    const look = await lookAtMachine(deps, run.appName, run.machineId);
    return look.kind === 'gone' ? { kind: 'gone' } : { kind: 'unknown' };
  }
}

/** The cleanup is over: `confirmed` or `machine_gone`, guarded by the claim. */
async function finish(
  deps: Deps,
  run: CliRun,
  outcome: Exclude<CliRunCleanup, 'pending'>,
  runId: string | null,
): Promise<FollowRun> {
  const now = deps.clock.now();
  const [row] = await deps.db
    .update(cliRuns)
    .set({
      cleanup: outcome,
      controllerRunId: sql`coalesce(${cliRuns.controllerRunId}, ${runId})`,
      nextCheckAt: null,
      updatedAt: now,
      ...released(cliRuns),
    })
    .where(and(heldBy(cliRuns, run), eq(cliRuns.cleanup, 'pending')))
    .returning();
  if (!row) return { outcome: 'claim_lost' };
  deps.log.info('cli_run.cleaned_up', { runId: run.id, cleanup: outcome });
  return { outcome: 'cleaned', run: row };
}

/**
 * An ended run that still owes its controller a cancel (`cleanup = 'pending'`: cancelled or
 * failed while the controller had not confirmed, claimed by the caller). Sends the cancel
 * (idempotent); done when the controller reports the run ended or does not know it
 * (`confirmed`) or Fly reports the machine gone (`machine_gone`); otherwise tried again
 * after a backoff (2 s doubling to 30 s), for as long as it takes.
 */
export async function cleanUp(deps: Deps, run: CliRun): Promise<FollowRun> {
  let runId = run.controllerRunId;
  if (!runId) {
    const learned = await learnRunId(deps, run);
    if (learned.kind === 'none') return finish(deps, run, 'confirmed', null);
    if (learned.kind === 'gone') return finish(deps, run, 'machine_gone', null);
    if (learned.kind === 'unknown')
      return continueAfter(deps, run, deps.clock.now(), { gotOutput: false });
    runId = learned.runId;
  }
  const answer = await sendCancel(deps, run, runId, { askFirst: false });
  if (answer.kind === 'ended' || answer.kind === 'not_known')
    return finish(deps, run, 'confirmed', runId);
  if (answer.kind === 'gone') return finish(deps, run, 'machine_gone', runId);
  deps.log.warn('cli_run.cleanup_pending', { runId: run.id, reason: answer.reason });
  return continueAfter(deps, run, deps.clock.now(), { gotOutput: false });
}
