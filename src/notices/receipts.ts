import { and, eq, inArray, isNull, lt } from 'drizzle-orm';
import { noticeDeliveries } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import { forgetPushTokens } from './push-tokens.ts';

/** Expo's receipts are ready within about 15 minutes of the send (its docs suggest waiting). */
const RECEIPT_DELAY_MS = 15 * 60_000;
/** Expo's getReceipts takes at most 1,000 ids per request. */
const MAX_IDS = 1_000;

/**
 * Reads Expo's receipts for push deliveries sent more than 15 minutes ago, once each, and
 * forgets every device token whose receipt says `DeviceNotRegistered`. Returns how many
 * tokens it forgot. A failure to read leaves the rows for the next sweep.
 */
export async function checkPushReceipts(deps: Deps, now: Date): Promise<number> {
  const rows = await deps.db
    .select({ id: noticeDeliveries.id, tickets: noticeDeliveries.pushTickets })
    .from(noticeDeliveries)
    .where(
      and(
        eq(noticeDeliveries.channel, 'push'),
        eq(noticeDeliveries.status, 'sent'),
        isNull(noticeDeliveries.receiptsCheckedAt),
        lt(noticeDeliveries.sentAt, new Date(now.getTime() - RECEIPT_DELAY_MS)),
      ),
    )
    .limit(200);
  if (!rows.length) return 0;
  const tokenOf = new Map<string, string>();
  for (const r of rows)
    for (const [id, token] of Object.entries(r.tickets ?? {})) tokenOf.set(id, token);
  const ids = [...tokenOf.keys()];
  const dead: string[] = [];
  for (let i = 0; i < ids.length; i += MAX_IDS) {
    const receipts = await deps.pusher.getReceipts(ids.slice(i, i + MAX_IDS));
    for (const [id, receipt] of Object.entries(receipts))
      if (!receipt.ok && receipt.deviceNotRegistered) {
        const token = tokenOf.get(id);
        if (token) dead.push(token);
      }
  }
  await forgetPushTokens(deps.db, dead);
  await deps.db
    .update(noticeDeliveries)
    .set({ receiptsCheckedAt: now })
    .where(
      inArray(
        noticeDeliveries.id,
        rows.map((r) => r.id),
      ),
    );
  return dead.length;
}
