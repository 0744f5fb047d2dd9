import { isControllerError } from '../adapters/controller/errors.ts';
import type { ControllerCliRun } from '../adapters/controller/types.ts';
import type { Ctx } from '../deps.ts';
import { getInstance } from '../fleet/instances.ts';
import { ConflictError, NotFoundError } from '../lib/errors.ts';
import { endRun } from './end.ts';
import { ControllerFailedError, describeControllerError } from './errors.ts';
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

const endingOf = (s: ControllerCliRun & { status: 'completed' | 'failed' | 'cancelled' }) => ({
  status: s.status,
  exitCode: s.exitCode,
  error:
    s.status === 'failed'
      ? `The CLI exited with code ${s.exitCode ?? 'unknown'}.`
      : s.status === 'cancelled'
        ? 'Cancelled.'
        : null,
});

/**
 * Cancels a run, found by its id (whatever has happened to its instance since).
 *
 * - An ended run is returned as it is: nothing to do.
 * - A `starting` run is 409 `cli-run-starting`: the controller has not answered the start
 *   yet; try again in a moment.
 * - A run the controller reports ended (the follow had not seen it yet) gets that terminal
 *   state persisted, without a cancel call.
 * - Otherwise the row becomes `cancelled` only after the controller accepts the cancel; a
 *   controller that refuses or cannot be reached leaves the run live and answers 502
 *   `controller-failed` saying why. A controller that no longer knows the run, or an
 *   instance destroyed since, ends it `failed` with the reason.
 *
 * Audits an admin's cancel; adds the outcome to the instance's timeline.
 */
export async function cancelCliRun({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { runId: string; initiatedBy: 'user' | 'admin' };
}): Promise<CliRun> {
  const run = await findRun(ctx.db, input.runId);
  if (!run) throw new NotFoundError('CLI run', input.runId);
  if (!isLive(run)) return run;
  if (run.status === 'starting')
    throw new ConflictError(
      'The run is still starting; cancel it again in a moment.',
      { runId: run.id },
      'cli-run-starting',
    );
  const options = {
    guard: 'live' as const,
    actor: ctx.actor,
    ...(input.initiatedBy === 'admin' ? { audit: { ctx, action: 'cli_run.cancel' } } : {}),
  };
  const finish = async (ending: Parameters<typeof endRun>[2]) =>
    (await endRun(ctx.db, run, ending, ctx.clock.now(), options)) ??
    (await findRun(ctx.db, run.id)) ??
    run;

  let status: ControllerCliRun;
  try {
    status = await ctx.controller.getCliRun(targetOf(run), run.controllerRunId ?? '');
    if (status.status === 'running')
      status = await ctx.controller.cancelCliRun(targetOf(run), run.controllerRunId ?? '');
  } catch (error) {
    if (error instanceof ControllerFailedError) throw error;
    const reason = describeControllerError(error);
    const instance = await getInstance(ctx.db, run.instanceId).catch(() => null);
    if (!instance || instance.status === 'destroyed' || instance.status === 'destroying')
      return finish({
        status: 'failed',
        error:
          'The instance was destroyed while the run was live; the output gathered so far is kept.',
      });
    if (isControllerError(error, 'not_found'))
      return finish({
        status: 'failed',
        error:
          "The instance's controller no longer knows this run (the machine restarted or was replaced); the output gathered so far is kept.",
      });
    throw new ControllerFailedError(
      `The run was not cancelled and is still live: ${reason}.`,
      run.id,
    );
  }
  const ended = status.status;
  if (ended === 'running')
    throw new ControllerFailedError(
      'The run was not cancelled and is still live: the controller still reports it running.',
      run.id,
    );
  const output = await lastOutput(ctx, run);
  return finish({ ...endingOf({ ...status, status: ended }), ...(output ? { output } : {}) });
}
