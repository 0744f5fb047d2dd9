import { recordAudit } from '../audit/audit.ts';
import type { Ctx, Deps } from '../deps.ts';
import { type DispatchResult, dispatchDue } from './dispatch.ts';
import { NOTICES_PATH } from './model.ts';

/**
 * One dispatch as a doorbell runs it: {@link dispatchDue}, then its own continuation when
 * work is left and a doorbell for the earliest retry it scheduled. Both are deduplicated on
 * the time they ring for, in QStash's whole seconds: several dispatches that meet the same
 * rate-limit turn (or a redelivery of one) ring that turn once.
 */
export async function runDispatch(
  deps: Deps,
  input: { dueAt?: Date | null; actionId?: string | null } = {},
): Promise<DispatchResult> {
  const run = await dispatchDue(deps);
  const rings = [];
  // Rung early (QStash's clock ahead of ours): ring again for the due time, deduplicated on
  // it, so a skewed clock cannot make it loop; should that come early too, the sweep sends.
  if (input.dueAt && run.claimed === 0 && input.dueAt > deps.clock.now())
    rings.push({
      path: NOTICES_PATH,
      body: {},
      notBefore: input.dueAt,
      deduplicationId: `notices-early-${input.actionId ?? 'any'}-${input.dueAt.getTime()}`,
    });
  if (run.continueAt)
    rings.push({
      path: NOTICES_PATH,
      body: {},
      notBefore: run.continueAt,
      // QStash's not-before is in whole seconds (the SDK rounds up): one ring per second.
      deduplicationId: `notices-continue-${Math.ceil(run.continueAt.getTime() / 1000)}`,
    });
  if (run.retryAt)
    rings.push({
      path: NOTICES_PATH,
      body: {},
      notBefore: run.retryAt,
      deduplicationId: `notices-retry-${run.retryAt.getTime()}`,
    });
  if (rings.length)
    await deps.doorbells
      .ringMany(rings)
      .catch((err) =>
        deps.log.warn('notices.continue_ring_failed', { error: err, hint: 'the sweep dispatches' }),
      );
  return run;
}

/** "Send due notices now" (console, `POST /api/admin/notices/dispatch`): one dispatch. Audited. */
export async function dispatchNow({ ctx }: { ctx: Ctx }): Promise<DispatchResult> {
  const run = await runDispatch(ctx);
  await recordAudit(ctx.db, ctx, {
    action: 'notices.dispatch',
    subjectType: 'notices',
    payload: {
      claimed: run.claimed,
      sent: run.sent,
      failed: run.failed,
      skipped: run.skipped,
      retried: run.retried,
    },
  });
  return run;
}
