import type { Ctx } from '../deps.ts';
import { getInstance } from '../fleet/instances.ts';
import { NotFoundError } from '../lib/errors.ts';
import { type CancelAnswer, sendCancel } from './controller-calls.ts';
import { type Ending, endRun } from './end.ts';
import { ringCleanup } from './follow-ring.ts';
import { type CliRun, findRun, isLive, targetOf } from './model.ts';
import { appendTail } from './output.ts';

/** The output after the run's offset (best effort: what the row has when the read fails). */
async function lastOutput(ctx: Ctx, run: CliRun) {
  try {
    const out = await ctx.controller.getCliRunOutput(
      targetOf(run),
      run.controllerRunId ?? '',
      run.outputSize,
    );
    const text = out.chunks.map((c) => c.text).join('');
    return {
      tail: appendTail(run.outputTail, text),
      size: Math.max(run.outputSize, out.nextOffset),
    };
  } catch {
    return undefined;
  }
}

/** What the controller's answer makes of the run (the caller ends it with this). */
async function endingOf(
  ctx: Ctx,
  run: CliRun,
  answer: CancelAnswer,
  reason?: string,
): Promise<Ending> {
  if (answer.kind === 'ended') {
    const s = answer.status;
    const output = await lastOutput(ctx, run);
    return {
      status: s.status,
      exitCode: s.exitCode,
      error:
        s.status === 'failed'
          ? `The CLI exited with code ${s.exitCode ?? 'unknown'}.`
          : s.status === 'cancelled'
            ? reason
              ? `Cancelled: ${reason}.`
              : 'Cancelled.'
            : null,
      ...(output ? { output: { ...output, reported: s.outputSize } } : {}),
    };
  }
  const cleanup = answer.kind === 'pending' ? ('pending' as const) : null;
  if (reason)
    return {
      status: 'cancelled',
      error:
        answer.kind === 'pending'
          ? `Cancelled: ${reason}. The controller has not confirmed it yet (${answer.reason}); the cancel is sent again until it does or the machine is gone.`
          : `Cancelled: ${reason}.`,
      cleanup,
    };
  const instance = await getInstance(ctx.db, run.instanceId).catch(() => null);
  if (!instance || instance.status === 'destroyed' || instance.status === 'destroying')
    return {
      status: 'failed',
      error:
        'The instance was destroyed while the run was live; the output gathered so far is kept.',
      cleanup,
    };
  if (answer.kind === 'not_known')
    return {
      status: 'failed',
      error:
        "The instance's controller no longer knows this run (the machine restarted or was replaced); the output gathered so far is kept.",
    };
  if (answer.kind === 'gone')
    return { status: 'cancelled', error: `Cancelled; nothing of it was live (${answer.words}).` };
  return {
    status: 'cancelled',
    error: `Cancelled. The controller has not confirmed it yet (${answer.reason}); the cancel is sent again until it does or the machine is gone.`,
    cleanup: 'pending',
  };
}

/**
 * Cancels a run, found by its id (whatever has happened to its instance since). Never
 * fails because of the controller: the row ends at once and the instance is released.
 *
 * - An ended run is returned as it is: nothing to do.
 * - A `starting` run (its start not confirmed yet) becomes `cancelled` with the cancel owed
 *   (`cleanup: 'pending'`): its follow doorbell looks the run up by its key and cancels it.
 * - A `running` run: the controller is asked (one status read, one cancel, within the
 *   controller timeout). A run it reports ended keeps that terminal state (no cancel call);
 *   a cancel it accepts makes the row `cancelled`; a run it does not know, or whose
 *   instance was destroyed, is `failed` with the reason; Fly reporting the machine gone
 *   makes it `cancelled` (nothing was live); any other answer (refused, timeout, 5xx)
 *   makes it `cancelled` with the cancel owed, sent again by its follow doorbell until the
 *   controller confirms or the machine is gone.
 *
 * With `reason` (a deprovision ending the run), every ending that is not the controller's
 * own is `cancelled` with that reason, the cancel owed when it is not confirmed.
 *
 * Errors: 404 unknown run. Audits the cancel (an admin's, or a platform request's with the
 * user it acted for); adds the outcome to the timeline.
 */
export async function cancelCliRun({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { runId: string; initiatedBy: 'user' | 'admin'; reason?: string };
}): Promise<CliRun> {
  const run = await findRun(ctx.db, input.runId);
  if (!run) throw new NotFoundError('CLI run', input.runId);
  if (!isLive(run)) return run;
  const ending: Ending =
    run.status === 'starting' || !run.controllerRunId
      ? {
          status: 'cancelled',
          error: `${input.reason ? `Cancelled: ${input.reason}. ` : 'Cancelled '}before the controller confirmed the start; the controller is told to cancel it (looked up by the start’s Idempotency-Key).`,
          cleanup: 'pending',
        }
      : await endingOf(
          ctx,
          run,
          await sendCancel(ctx, run, run.controllerRunId, { askFirst: true }),
          input.reason,
        );
  const ended = await endRun(ctx.db, run, ending, ctx.clock.now(), {
    guard: 'live',
    actor: ctx.actor,
    // Audited whoever cancels: a platform request's row names the user it acted for.
    audit: { ctx, action: 'cli_run.cancel' },
  });
  await ringCleanup(ctx, ended);
  return ended ?? (await findRun(ctx.db, run.id)) ?? run;
}
