import type { Deps } from '../deps.ts';
import { type CliRun, followDoorbell } from './model.ts';

/** Rings a run's follow doorbell; a failure is logged and left to the sweep. */
export async function ringFollow(
  deps: Pick<Deps, 'doorbells' | 'log'>,
  run: CliRun,
  purpose?: string,
): Promise<void> {
  try {
    await deps.doorbells.ring(followDoorbell(run, purpose));
  } catch (err) {
    deps.log.warn('cli_run.ring_failed', {
      runId: run.id,
      error: err,
      hint: 'the sweep rings it again',
    });
  }
}

/**
 * Rings the follow doorbell of a run just ended with `cleanup = 'pending'` (due at once),
 * deduplicated on the ending's time: the cancel it still owes the controller is sent from
 * there. Does nothing for any other run.
 */
export async function ringCleanup(
  deps: Pick<Deps, 'doorbells' | 'log'>,
  run: CliRun | null,
): Promise<void> {
  if (run?.cleanup !== 'pending') return;
  await ringFollow(deps, run, `cleanup-${run.updatedAt.getTime()}`);
}
