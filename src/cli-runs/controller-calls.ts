// The two controller calls that change a run (start, cancel), each ending done, not done or
// unknown (docs/seams.md, "Unknown is a state"). Unknown is resolved by looking: a start is
// sent again with the run's `Idempotency-Key` (the row id), a cancel again (idempotent), and
// when the answer says no machine may have answered (502/503, a lost connection) Fly is
// asked whether the machine still runs.
import {
  ControllerError,
  isControllerError,
  outcomeUnknown,
} from '../adapters/controller/errors.ts';
import type { CliRunStarted, ControllerCliRun } from '../adapters/controller/types.ts';
import type { Deps } from '../deps.ts';
import { lookAtMachine } from '../fleet/machine-state.ts';
import { describeControllerError } from './errors.ts';
import { type CliRun, targetOf } from './model.ts';

export type Started = CliRunStarted & { replayed: boolean };

export type StartAnswer =
  | { kind: 'started'; started: Started }
  /** Nothing of this start is live: refused, or Fly reports the machine gone. */
  | { kind: 'not_started'; reason: string }
  | { kind: 'unknown'; reason: string };

export type CancelAnswer =
  /** The controller reports the run ended (now, or before we asked). */
  | { kind: 'ended'; status: ControllerCliRun & { status: 'completed' | 'failed' | 'cancelled' } }
  /** 404: the controller does not know the run (its machine restarted): nothing is live. */
  | { kind: 'not_known' }
  /** Fly reports the machine gone: nothing is live. */
  | { kind: 'gone'; words: string }
  /** Unknown, or refused: the run may be live and a cancel is still owed. */
  | { kind: 'pending'; reason: string };

type CallDeps = Pick<Deps, 'controller' | 'fly' | 'log'>;

/**
 * Sends the run's start with its key; a 409 naming a run we do not track (an orphan: a
 * start with our key would have been answered as a replay) gets that run cancelled and the
 * start sent once more, so an orphan never blocks the instance.
 */
async function sendOnce(deps: CallDeps, run: CliRun): Promise<Started> {
  const target = targetOf(run);
  const input = { prompt: run.prompt, idempotencyKey: run.id };
  try {
    return await deps.controller.startCliRun(target, input);
  } catch (error) {
    if (!(error instanceof ControllerError && error.kind === 'conflict' && error.liveId))
      throw error;
    deps.log.warn('cli_run.orphan_cancelled', { runId: run.id, controllerRunId: error.liveId });
    await deps.controller.cancelCliRun(target, error.liveId);
    return deps.controller.startCliRun(target, input);
  }
}

/**
 * A 502/503 or a lost connection may mean that no machine answered: Fly says whether the
 * machine still runs. Returns its words when it does not (nothing on it is live).
 */
async function goneByFly(deps: CallDeps, run: CliRun, error: unknown): Promise<string | null> {
  if (!isControllerError(error, 'unreachable')) return null;
  const look = await lookAtMachine(deps, run.appName, run.machineId);
  return look.kind === 'gone' ? look.words : null;
}

/**
 * Starts the run on its machine (or learns the run an earlier attempt started: the key
 * makes a repeat a replay). `retryNow`: after a 5xx or a lost connection, send it once more
 * at once (the look-up); a timeout is not repeated at once (a hung controller would hang
 * again), it is looked up later. Never throws.
 */
export async function sendStart(
  deps: CallDeps,
  run: CliRun,
  options: { retryNow: boolean },
): Promise<StartAnswer> {
  let error: unknown;
  for (let attempt = 0; attempt < (options.retryNow ? 2 : 1); attempt++) {
    try {
      return { kind: 'started', started: await sendOnce(deps, run) };
    } catch (e) {
      error = e;
      if (!outcomeUnknown(e))
        return { kind: 'not_started', reason: `The start failed: ${describeControllerError(e)}.` };
      if (isControllerError(e, 'timeout')) break;
    }
  }
  const lost = `The start's answer was lost (${describeControllerError(error)})`;
  const gone = await goneByFly(deps, run, error);
  if (gone) return { kind: 'not_started', reason: `${lost} and ${gone}: nothing of it is live.` };
  return {
    kind: 'unknown',
    reason: `${lost}; it is confirmed by sending it again with the run's Idempotency-Key.`,
  };
}

/**
 * Tells the controller to cancel run `runId` once. With `askFirst`, its status is read
 * first and a run it reports ended is not cancelled (its own terminal state is kept).
 * Never throws.
 */
export async function sendCancel(
  deps: CallDeps,
  run: CliRun,
  runId: string,
  options: { askFirst: boolean },
): Promise<CancelAnswer> {
  const target = targetOf(run);
  try {
    let status = options.askFirst ? await deps.controller.getCliRun(target, runId) : null;
    if (!status || status.status === 'running')
      status = await deps.controller.cancelCliRun(target, runId);
    if (status.status === 'running')
      return { kind: 'pending', reason: 'the controller still reports the run running' };
    return { kind: 'ended', status: { ...status, status: status.status } };
  } catch (error) {
    if (isControllerError(error, 'not_found')) return { kind: 'not_known' };
    const gone = await goneByFly(deps, run, error);
    if (gone) return { kind: 'gone', words: gone };
    return { kind: 'pending', reason: describeControllerError(error) };
  }
}
