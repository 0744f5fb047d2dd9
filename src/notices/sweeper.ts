import { and, eq, lt } from 'drizzle-orm';
import { noticeDeliveries } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import type { Sweeper } from '../doorbells/sweeper.ts';
import { closeOvertaken, returnExpiredLeases } from './claim.ts';
import { NOTICES_PATH } from './model.ts';
import { checkPushReceipts } from './receipts.ts';

/** How late a due delivery may be before the sweep assumes its doorbell was lost (s). */
const GRACE_SECONDS = 30;

async function dueBefore(deps: Deps, before: Date): Promise<number> {
  const rows = await deps.db
    .select({ id: noticeDeliveries.id })
    .from(noticeDeliveries)
    .where(and(eq(noticeDeliveries.status, 'pending'), lt(noticeDeliveries.nextAttemptAt, before)))
    .limit(1);
  return rows.length;
}

async function ringDispatch(deps: Deps, purpose: string): Promise<number> {
  try {
    await deps.doorbells.ring({
      path: NOTICES_PATH,
      body: {},
      deduplicationId: `notices-${purpose}`,
    });
    return 1;
  } catch (err) {
    deps.log.warn('notices.sweep_ring_failed', { error: err });
    return 0;
  }
}

/**
 * The notices' part of the every-minute sweep: `sending` deliveries whose lease passed go
 * back to `pending` (same idempotency key on the retry); due notices whose target was
 * reached first are closed; when a delivery has been due for more than 30 s (its doorbell
 * was lost, or a retry came due), one dispatch is rung; push receipts are read.
 */
export const noticesSweeper: Sweeper = {
  name: 'notices',
  async sweep(deps: Deps, now: Date) {
    const leasesReturned = await returnExpiredLeases(deps.db, now);
    await closeOvertaken(deps.db, now);
    const found = await dueBefore(deps, new Date(now.getTime() - GRACE_SECONDS * 1000));
    const rerung =
      found || leasesReturned
        ? await ringDispatch(deps, `sweep-${Math.floor(now.getTime() / 60_000)}`)
        : 0;
    await checkPushReceipts(deps, now).catch((err) =>
      deps.log.warn('notices.receipts_failed', { error: err }),
    );
    return { found, rerung, leasesReturned };
  },
  async recoverAtStart(deps: Deps, now: Date) {
    // One process: every lease was held by the process that stopped.
    const leasesReturned = await returnExpiredLeases(deps.db, new Date(8.64e15));
    const found = await dueBefore(deps, new Date(now.getTime() + 1));
    const rerung = found || leasesReturned ? await ringDispatch(deps, `start-${now.getTime()}`) : 0;
    return { found, rerung, leasesReturned };
  },
};
