import { and, eq, inArray } from 'drizzle-orm';
import { noticeDeliveries, scheduledActionNotices } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import { workUnits } from '../lib/work/index.ts';
import { closeOvertaken } from './claim.ts';
import { NOTICES_PATH } from './model.ts';
import { checkPushReceipts } from './receipts.ts';

/** Closes overtaken notices; in the regular sweep, also reads push receipts. */
async function upkeep(deps: Deps, now: Date, phase: 'sweep' | 'start') {
  await closeOvertaken(deps.db, now);
  if (phase === 'sweep')
    await checkPushReceipts(deps, now).catch((err) =>
      deps.log.warn('notices.receipts_failed', { error: err }),
    );
  return {};
}

/**
 * Notice deliveries as units of work (src/lib/work): a dispatch claims a batch of due
 * deliveries `pending → sending` with a lease (`claim.ts`, one statement with the notices
 * they carry). A passed lease (a dispatch that died or stalled) returns the delivery and its
 * `sending` notices to `pending`, due now; `batch_id` stays, so the retry sends the same
 * idempotency key. The doorbell is the channel-wide dispatch: the sweep rings one when any
 * delivery is 30 s overdue or was just returned.
 */
export const deliveryUnits = workUnits({
  name: 'notices',
  table: noticeDeliveries,
  status: noticeDeliveries.status,
  live: ['pending', 'sending'],
  dueAt: noticeDeliveries.nextAttemptAt,
  graceMs: 30_000,
  ringWhen: eq(noticeDeliveries.status, 'pending'),
  doorbells: (due, purpose) =>
    due.length ? [{ path: NOTICES_PATH, body: {}, deduplicationId: `notices-${purpose}` }] : [],
  lease: {
    set: (now) => ({ status: 'pending', nextAttemptAt: now }),
    async after(tx, ids) {
      await tx
        .update(scheduledActionNotices)
        .set({ status: 'pending' })
        .where(
          and(
            inArray(scheduledActionNotices.deliveryId, ids),
            eq(scheduledActionNotices.status, 'sending'),
          ),
        );
    },
  },
  upkeep,
});
