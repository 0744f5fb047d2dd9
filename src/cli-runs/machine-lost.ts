import type { MachineLostListener } from '../fleet/machine-lost.ts';
import { lossInWords } from '../fleet/machine-lost.ts';
import { endRun } from './end.ts';
import { ringCleanup } from './follow-ring.ts';
import { liveCliRun } from './queries.ts';

/**
 * Reconcile gave up the machine of an instance with a live run (src/fleet/machine-lost.ts):
 * the run ends `failed` with the reason at once, releasing its hold, so the recovery that
 * follows in the same reconcile can begin (docs/seams.md). The output gathered so far is
 * kept and what was not read is stated. When Fly's listing confirms the machine down,
 * nothing of the run is live; otherwise (a host that stays unreachable, or a run on a
 * machine the instance had already left) the cancel stays owed (`cleanup: 'pending'`),
 * sent by the run's follow doorbell until the controller confirms or the machine is gone.
 */
export const endRunOnLostMachine: MachineLostListener = async (deps, lost) => {
  const run = await liveCliRun(deps.db, lost.instanceId);
  if (!run) return;
  const onLost = run.machineId === lost.machineId;
  const words = onLost
    ? lossInWords(lost)
    : `the instance had left its machine ${run.machineId} for ${lost.machineId}, which is lost too`;
  const mayRun = !(onLost && lost.confirmedDown);
  const ended = await endRun(
    deps.db,
    run,
    {
      status: 'failed',
      error: `The run ended with its machine: reconcile found that ${words}. The output gathered so far is kept.`,
      cut: "the run's machine was lost before the rest of its output was read",
      // A start never confirmed and a run on a machine that may still run both owe a cancel.
      cleanup: mayRun ? 'pending' : null,
    },
    deps.clock.now(),
    { guard: 'live' },
  );
  if (!ended) return;
  deps.log.info('cli_run.machine_lost', {
    runId: run.id,
    instanceId: lost.instanceId,
    cause: lost.cause,
    cleanup: ended.cleanup,
  });
  await ringCleanup(deps, ended);
};
