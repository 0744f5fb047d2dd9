import { recordAudit } from '../audit/audit.ts';
import type { Ctx, Deps } from '../deps.ts';
import { type DispatchResult, dispatchDue } from './dispatch.ts';
import { NOTICES_PATH } from './model.ts';

/**
 * One dispatch as a doorbell runs it: {@link dispatchDue}, then its own continuation when
 * work is left (deduplicated on the message that rang it, so a redelivery rings once) and
 * a doorbell for the earliest retry it scheduled (deduplicated on that time).
 */
export async function runDispatch(
  deps: Deps,
  input: { messageId: string | null; dueAt?: Date | null; actionId?: string | null },
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
      deduplicationId: `notices-continue-${input.messageId ?? crypto.randomUUID()}`,
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
  const run = await runDispatch(ctx, { messageId: null });
  await recordAudit(ctx.db, ctx, {
    action: 'notices.dispatch',
    subjectType: 'notices',
    payload: {
      claimed: run.claimed,
      sent: run.sent,
      failed: run.failed,
      retried: run.retried,
    },
  });
  return run;
}
