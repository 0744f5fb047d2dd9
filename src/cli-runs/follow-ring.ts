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
