import { DEPROVISION_REASON, type DeprovisionListener } from '../deprovision/listeners.ts';
import { cancelCliRun } from './cancel.ts';
import { liveCliRun } from './queries.ts';

/**
 * An instance is being deprovisioned (docs/seams.md): its live CLI run is cancelled as a
 * cancel does ({@link cancelCliRun}), with the reason "the instance is being
 * deprovisioned"; its hold has already passed to the deprovision. A cancel the controller
 * does not confirm stays owed (`cleanup: pending`) until it does or the machine is
 * destroyed. Idempotent.
 */
export const cancelRunOnDeprovision: DeprovisionListener = async (ctx, event) => {
  if (event.phase !== 'ending_work') return;
  const run = await liveCliRun(ctx.db, event.instanceId);
  if (!run) return;
  await cancelCliRun({
    ctx,
    input: { runId: run.id, initiatedBy: 'admin', reason: DEPROVISION_REASON },
  });
};
