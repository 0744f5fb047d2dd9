import { noticeDeliveries } from '../../db/schema/index.ts';
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
 * Notice deliveries as units of work (src/lib/work): a dispatch claims one provider
 * request's batch of deliveries with a lease (`claim.ts`: `pending → sending` for a new
 * batch, or a whole `sending` batch whose answer was unknown) and records the outcomes with
 * guarded writes. A passed lease (a dispatch that died or stalled mid-request) is an unknown
 * answer: the delivery stays `sending` with its notices (the user may have it), the claim
 * given back, due now, `batch_id` kept, so its batch goes again whole under the same
 * idempotency key. The doorbell is the channel-wide dispatch: the sweep rings one when any
 * delivery not held is 30 s overdue or was just returned.
 */
export const deliveryUnits = workUnits({
  name: 'notices',
  table: noticeDeliveries,
  status: noticeDeliveries.status,
  live: ['pending', 'sending'],
  dueAt: noticeDeliveries.nextAttemptAt,
  graceMs: 30_000,
  doorbells: (due, purpose) =>
    due.length ? [{ path: NOTICES_PATH, body: {}, deduplicationId: `notices-${purpose}` }] : [],
  lease: {
    set: (now, why) => ({
      nextAttemptAt: now,
      lastError:
        why === 'restart'
          ? 'answer unknown: the process sending it stopped; sent again under the same key'
          : 'answer unknown: the send outlived its lease; sent again under the same key',
    }),
  },
  upkeep,
});
