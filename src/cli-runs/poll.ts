import { isControllerError } from '../adapters/controller/errors.ts';
import type { ControllerCliRun } from '../adapters/controller/types.ts';
import type { Deps } from '../deps.ts';
import { getInstance } from '../fleet/instances.ts';
import { lookAtMachine } from '../fleet/machine-state.ts';
import { sendCancel } from './controller-calls.ts';
import { drainOutput } from './drain.ts';
import { type Ending, endRun } from './end.ts';
import { describeControllerError } from './errors.ts';
import { continueAfter, ended, type FollowRun } from './follow-write.ts';
import { type CliRun, targetOf } from './model.ts';

const NOT_KNOWN =
  "The instance's controller no longer knows this run (the machine restarted or was replaced); the output gathered so far is kept.";
const NOT_KNOWN_CUT =
  'the controller no longer has the rest (its machine restarted or was replaced)';
const MACHINE_LOST_CUT = "the run's machine was lost before the rest of its output was read";

/**
 * Why a live run the controller did not answer for has ended anyway: its instance was
 * destroyed or moved to another machine, or (after a 502/503 or a lost connection, or in
 * those two cases) Fly reports its machine gone. `cleanup` is `pending` unless Fly says the
 * machine is gone (then nothing of the run is live). Null: nothing says so; it stays live.
 */
async function endedWithoutAnswer(
  deps: Deps,
  run: CliRun,
  error: unknown,
): Promise<{ reason: string; cleanup: 'pending' | null } | null> {
  const instance = await getInstance(deps.db, run.instanceId).catch(() => null);
  const destroyed =
    !instance || instance.status === 'destroyed' || instance.status === 'destroying';
  const moved = !destroyed && instance.machineId !== null && instance.machineId !== run.machineId;
  const look =
    destroyed || moved || isControllerError(error, 'unreachable')
      ? await lookAtMachine(deps, run.appName, run.machineId)
      : null;
  const cleanup = look?.kind === 'gone' ? null : ('pending' as const);
  if (destroyed)
    return {
      reason:
        'The instance was destroyed while the run was live; the output gathered so far is kept.',
      cleanup,
    };
  if (moved)
    return {
      reason: `The instance moved to another machine (${instance?.machineId}) while the run was live on ${run.machineId}; the output gathered so far is kept.`,
      cleanup,
    };
  if (look?.kind === 'gone')
    return {
      reason: `The run ended with its machine: ${look.words}; the output gathered so far is kept.`,
      cleanup: null,
    };
  return null;
}

const endWith = async (deps: Deps, run: CliRun, ending: Ending) =>
  ended(deps, await endRun(deps.db, run, ending, deps.clock.now(), { guard: 'claim' }));

const terminalEnding = (s: ControllerCliRun): Pick<Ending, 'status' | 'exitCode' | 'error'> => ({
  status: s.status === 'running' ? 'failed' : s.status,
  exitCode: s.exitCode,
  error:
    s.status === 'failed'
      ? `The CLI exited with code ${s.exitCode ?? 'unknown'}.`
      : s.status === 'cancelled'
        ? 'Cancelled on the instance.'
        : null,
});

/**
 * One poll of a `running` run (claimed by the caller): asks the controller for its status,
 * reads its output up to the size the controller reported (page after page, within the
 * step budget; a run that ended with output still to read is continued at once in a new
 * doorbell and ends only when it is all read), and records what it learned, guarded by the
 * claim. Ends the run when the controller reports it ended (with the output cut stated when
 * the rest could not be read: the read limit, a controller that forgot it, a lost machine),
 * when the controller no longer knows it, when its instance is destroyed or moved, or when
 * Fly reports its machine gone; past its deadline it is cancelled and failed. Otherwise it
 * stays live, with a controller failure noted in `last_error`.
 */
export async function pollRun(deps: Deps, run: CliRun): Promise<FollowRun> {
  if (deps.clock.now() >= run.deadlineAt) return expire(deps, run);
  let status: ControllerCliRun;
  try {
    status = await deps.controller.getCliRun(targetOf(run), run.controllerRunId ?? '');
  } catch (error) {
    if (isControllerError(error, 'not_found'))
      return endWith(deps, run, { status: 'failed', error: NOT_KNOWN, cut: NOT_KNOWN_CUT });
    const why = await endedWithoutAnswer(deps, run, error);
    if (why)
      return endWith(deps, run, {
        status: 'failed',
        error: why.reason,
        cleanup: why.cleanup,
        cut: MACHINE_LOST_CUT,
      });
    return continueAfter(deps, run, deps.clock.now(), {
      note: describeControllerError(error),
      gotOutput: false,
    });
  }
  if (status.runId !== run.controllerRunId)
    return endWith(deps, run, {
      status: 'failed',
      error: `The instance's controller reports another run (${status.runId}) instead of this one (${run.controllerRunId}).`,
    });
  const read =
    status.outputSize > run.outputSize
      ? await drainOutput(deps, run, status.outputSize, {
          budgetMs: deps.config.work.stepBudgetMs,
          maxBytes: deps.config.cliRuns.maxOutputBytes,
        })
      : { tail: run.outputTail, size: run.outputSize, stop: 'drained' as const };
  const output = { tail: read.tail, size: read.size, reported: status.outputSize };
  const gotOutput = read.size > run.outputSize;
  const at = deps.clock.now();
  const more = read.stop === 'budget' ? { delayMs: 0 } : {};
  if (read.stop === 'failed' && read.error?.notFound)
    return endWith(deps, run, {
      ...(status.status === 'running'
        ? { status: 'failed', error: NOT_KNOWN }
        : terminalEnding(status)),
      output,
      cut: NOT_KNOWN_CUT,
    });
  if (status.status === 'running')
    return continueAfter(deps, run, at, { output, gotOutput, note: read.error?.words, ...more });
  // The run has ended on the machine: its row ends once its output is all read, or says
  // how much was not and why.
  let cut: string | undefined;
  if (read.stop === 'budget') return continueAfter(deps, run, at, { output, gotOutput, ...more });
  if (read.stop === 'failed') {
    const why = await endedWithoutAnswer(deps, run, read.error?.cause);
    if (!why) return continueAfter(deps, run, at, { output, gotOutput, note: read.error?.words });
    cut = MACHINE_LOST_CUT;
  } else if (read.stop === 'cap')
    cut = `only the first ${Math.round(deps.config.cliRuns.maxOutputBytes / 1_048_576)} MiB are read (CLI_RUN_MAX_OUTPUT_MB)`;
  else if (read.stop === 'stalled')
    cut = `the controller reported ${status.outputSize} bytes but served only ${read.size}`;
  return endWith(deps, run, { ...terminalEnding(status), output, ...(cut ? { cut } : {}) });
}

/**
 * Past its deadline: the controller is told to cancel the run, and the row is `failed`
 * saying so; a cancel the controller has not confirmed stays owed (`cleanup = 'pending'`).
 */
async function expire(deps: Deps, run: CliRun): Promise<FollowRun> {
  const minutes = Math.round(deps.config.cliRuns.maxDurationMs / 60_000);
  const answer = await sendCancel(deps, run, run.controllerRunId ?? '', { askFirst: false });
  const pending = answer.kind === 'pending';
  const cancelled = pending
    ? `cancelling it on the instance is not confirmed yet (${answer.reason}); it is sent again until it is`
    : answer.kind === 'gone'
      ? `nothing of it is live (${answer.words})`
      : 'it was cancelled on the instance';
  return endWith(deps, run, {
    status: 'failed',
    error: `No terminal state within the maximum duration of ${minutes} minutes; ${cancelled}.`,
    cleanup: pending ? 'pending' : null,
  });
}
