import { and, eq } from 'drizzle-orm';
import { scheduledActionTargets } from '../../db/schema/index.ts';
import type { Ctx } from '../deps.ts';
import { ConflictError, UnprocessableError } from '../lib/errors.ts';
import { getAction } from './queries.ts';
import { scheduleAction } from './schedule.ts';

/**
 * Schedules the failed targets of an ended action (completed, failed, halted or cancelled)
 * again, as a new action due now with the same type, image, pin override, `maxInFlight` and
 * `includeStopped`, in one stage; instances scheduled elsewhere meanwhile are left out.
 * 409 `not-ended` while the action runs (or is cancelling: its targets in flight may still fail); 422 `no-failed-targets` when none failed.
 * Returns what `scheduleAction` returns; the new action's selection names the one retried.
 */
export async function retryFailedTargets({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { actionId: string };
}) {
  const action = await getAction(ctx.db, input.actionId);
  if (
    action.status === 'scheduled' ||
    action.status === 'running' ||
    action.status === 'paused' ||
    action.status === 'cancelling'
  )
    throw new ConflictError(
      `Failed targets can be retried once the action has ended (it is ${action.status}).`,
      { status: action.status },
      'not-ended',
    );
  const failed = await ctx.db
    .select({ instanceId: scheduledActionTargets.instanceId })
    .from(scheduledActionTargets)
    .where(
      and(
        eq(scheduledActionTargets.actionId, action.id),
        eq(scheduledActionTargets.status, 'failed'),
      ),
    );
  if (!failed.length)
    throw new UnprocessableError('No target of this action failed.', {}, 'no-failed-targets');
  return scheduleAction({
    ctx,
    input: {
      actionType: action.actionType,
      selection: { ids: failed.map((f) => f.instanceId) },
      runAt: 'now',
      targetImageTag: action.targetImageTag,
      overridePins: action.overridePins,
      reason: `Retry of the failed targets of ${action.id.slice(0, 8)}: ${action.reason}`.slice(
        0,
        500,
      ),
      maxInFlight: action.maxInFlight,
      includeStopped: action.includeStopped,
      skipAlreadyScheduled: true,
      retryOf: action.id,
    },
  });
}
