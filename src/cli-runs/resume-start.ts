import type { Deps } from '../deps.ts';
import { sendStart } from './controller-calls.ts';
import { endRun } from './end.ts';
import { continueAfter, ended, type FollowRun } from './follow-write.ts';
import type { CliRun } from './model.ts';
import { recordStarted } from './start.ts';

/**
 * A `starting` run whose start's answer was lost, or whose starter died before recording
 * it (claimed by the caller): the start is sent again with the run's `Idempotency-Key`, so
 * the controller answers the run the first attempt made (a replay) or starts it now. Started
 * → `running`; refused, or Fly reports the machine gone → `failed` with the reason (nothing
 * is live); unknown again → looked up again after a backoff (2 s doubling to 30 s). Past the
 * run's deadline it is `failed` with the cancel still owed (`cleanup = 'pending'`): the
 * cleanup looks the run up by the same key and cancels it.
 */
export async function resumeStart(deps: Deps, run: CliRun): Promise<FollowRun> {
  if (deps.clock.now() >= run.deadlineAt) {
    const minutes = Math.round(deps.config.cliRuns.maxDurationMs / 60_000);
    const error = `The start was not confirmed within the maximum duration of ${minutes} minutes (${run.lastError ?? 'no answer'}); the controller is told to cancel whatever it started.`;
    const row = await endRun(
      deps.db,
      run,
      { status: 'failed', error, cleanup: 'pending' },
      deps.clock.now(),
      { guard: 'claim' },
    );
    return ended(deps, row);
  }
  const answer = await sendStart(deps, run, { retryNow: false });
  if (answer.kind === 'started') {
    const running = await recordStarted(deps, run, answer.started);
    return running ? { outcome: 'continued', run: running } : { outcome: 'claim_lost' };
  }
  if (answer.kind === 'not_started') {
    const row = await endRun(
      deps.db,
      run,
      { status: 'failed', error: answer.reason },
      deps.clock.now(),
      { guard: 'claim' },
    );
    return ended(deps, row);
  }
  return continueAfter(deps, run, deps.clock.now(), { note: answer.reason, gotOutput: false });
}
