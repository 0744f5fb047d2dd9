import { and, eq } from 'drizzle-orm';
import { scheduledActionTargets } from '../../db/schema/index.ts';
import type { DeprovisionListener } from '../deprovision/listeners.ts';
import { AppError } from '../lib/errors.ts';
import { cancelTarget } from './cancel.ts';

/**
 * An instance is being deprovisioned (docs/seams.md): each of its pending scheduled targets
 * is cancelled with the scheduler's own verb ({@link cancelTarget}: stage counters, the
 * action's end, and the notices' follow-ups as a cancel makes them), audited as the
 * deprovision's. A target already being applied is left to its operation (the deprovision
 * waited for it); a target claimed later finds the instance `destroying` and is skipped
 * `destroyed`. Idempotent.
 */
export const cancelTargetsOnDeprovision: DeprovisionListener = async (ctx, event) => {
  if (event.phase !== 'ending_work') return;
  const pending = await ctx.db
    .select({ id: scheduledActionTargets.id })
    .from(scheduledActionTargets)
    .where(
      and(
        eq(scheduledActionTargets.instanceId, event.instanceId),
        eq(scheduledActionTargets.status, 'pending'),
      ),
    );
  for (const t of pending) {
    try {
      await cancelTarget({ ctx, input: { targetId: t.id, instanceId: event.instanceId } });
    } catch (err) {
      // Claimed or finished meanwhile: its own outcome stands.
      if (!(err instanceof AppError && err.code === 'target-not-pending')) throw err;
    }
  }
};
