import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { noticeDeliveries, scheduledActionNotices } from '../../db/schema/index.ts';
import { CANCELLED_BEFORE_SENT, type NoticeChannel } from './model.ts';
import { insertNotices } from './plan.ts';

/**
 * The notices side of a cancel, inside the scheduler's cancelling transaction (after it
 * moved the targets). `scope`: the whole action, or one target.
 *
 * 1. Every pending notice in scope becomes `failed` with "cancelled before the notice was
 *    sent", and so does every pending delivery left with nothing to say.
 * 2. For each of `cancelledTargetIds` (targets that were pending, so never started or
 *    applied) and each channel whose notice was already `sent`, a `cancelled` notice due
 *    now, grouped per user and channel like notices. A target being applied or finished
 *    is not in that list, so it gets no follow-up.
 *
 * Returns whether follow-ups were queued (the caller rings a dispatch after commit).
 */
export async function cancelNotices(
  tx: Db,
  input: {
    actionId: string;
    scope: { all: true } | { targetId: string };
    cancelledTargetIds: string[];
    now: Date;
  },
): Promise<boolean> {
  const inScope =
    'all' in input.scope
      ? eq(scheduledActionNotices.actionId, input.actionId)
      : eq(scheduledActionNotices.targetId, input.scope.targetId);
  const failed = await tx
    .update(scheduledActionNotices)
    .set({ status: 'failed', lastError: CANCELLED_BEFORE_SENT })
    .where(and(inScope, eq(scheduledActionNotices.status, 'pending')))
    .returning({ deliveryId: scheduledActionNotices.deliveryId });
  const touched = [...new Set(failed.map((f) => f.deliveryId))];
  for (let i = 0; i < touched.length; i += 5_000)
    await tx
      .update(noticeDeliveries)
      .set({ status: 'failed', lastError: CANCELLED_BEFORE_SENT, claimToken: null })
      .where(
        and(
          inArray(noticeDeliveries.id, touched.slice(i, i + 5_000)),
          eq(noticeDeliveries.status, 'pending'),
          sql`not exists (select 1 from ${scheduledActionNotices} n where n.delivery_id = ${noticeDeliveries.id} and n.status in ('pending', 'sending'))`,
        ),
      );
  if (!input.cancelledTargetIds.length) return false;
  const told: {
    targetId: string;
    userId: string;
    instanceId: string;
    channel: NoticeChannel;
    actionAt: Date;
  }[] = [];
  for (let i = 0; i < input.cancelledTargetIds.length; i += 5_000)
    told.push(
      ...(await tx
        .select({
          targetId: scheduledActionNotices.targetId,
          userId: scheduledActionNotices.userId,
          instanceId: scheduledActionNotices.instanceId,
          channel: scheduledActionNotices.channel,
          actionAt: scheduledActionNotices.actionAt,
        })
        .from(scheduledActionNotices)
        .where(
          and(
            inArray(scheduledActionNotices.targetId, input.cancelledTargetIds.slice(i, i + 5_000)),
            eq(scheduledActionNotices.kind, 'notice'),
            eq(scheduledActionNotices.status, 'sent'),
          ),
        )),
    );
  if (!told.length) return false;
  // A follow-up waiting to go out for the same user and channel (another target cancelled
  // a moment ago) takes this one too: one message names both.
  const open = await tx
    .select({
      id: noticeDeliveries.id,
      userId: noticeDeliveries.userId,
      channel: noticeDeliveries.channel,
    })
    .from(noticeDeliveries)
    .where(
      and(
        eq(noticeDeliveries.actionId, input.actionId),
        eq(noticeDeliveries.kind, 'cancelled'),
        eq(noticeDeliveries.status, 'pending'),
      ),
    );
  const reuse = new Map(open.map((d) => [`${d.userId}|${d.channel}`, d.id]));
  const byTarget = new Map<string, (typeof told)[number] & { channels: NoticeChannel[] }>();
  for (const row of told) {
    const t = byTarget.get(row.targetId) ?? { ...row, channels: [] };
    t.channels.push(row.channel);
    byTarget.set(row.targetId, t);
  }
  await insertNotices(
    tx,
    { actionId: input.actionId, kind: 'cancelled', channels: [], now: input.now },
    [...byTarget.values()].map((t) => ({ ...t, dueAt: input.now })),
    (t) => byTarget.get(t.targetId)?.channels ?? [],
    reuse,
  );
  return true;
}
