import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { noticeDeliveries, scheduledActionNotices } from '../../db/schema/index.ts';
import { released } from '../lib/work/index.ts';
import { CANCELLED_BEFORE_SENT, type NoticeChannel } from './model.ts';
import { insertNotices } from './plan.ts';

type Told = {
  actionId: string;
  targetId: string;
  userId: string;
  instanceId: string;
  channel: NoticeChannel;
  actionAt: Date;
};

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
 * 3. A notice of those targets still `sending` (its request in flight, or its answer
 *    unknown) may reach the user: it is marked `cancelled_at`, and its follow-up is queued
 *    once the send is recorded `sent` ({@link queueOwedFollowUps}); if it ends `failed`, or
 *    goes back to `pending` (not sent), it needs none and is closed as cancelled.
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
      .set({ status: 'failed', lastError: CANCELLED_BEFORE_SENT, ...released(noticeDeliveries) })
      .where(
        and(
          inArray(noticeDeliveries.id, touched.slice(i, i + 5_000)),
          eq(noticeDeliveries.status, 'pending'),
          sql`not exists (select 1 from ${scheduledActionNotices} n where n.delivery_id = ${noticeDeliveries.id} and n.status in ('pending', 'sending'))`,
        ),
      );
  if (!input.cancelledTargetIds.length) return false;
  const told: Told[] = [];
  for (let i = 0; i < input.cancelledTargetIds.length; i += 5_000) {
    const ids = input.cancelledTargetIds.slice(i, i + 5_000);
    await tx
      .update(scheduledActionNotices)
      .set({ cancelledAt: input.now })
      .where(
        and(
          inArray(scheduledActionNotices.targetId, ids),
          eq(scheduledActionNotices.kind, 'notice'),
          eq(scheduledActionNotices.status, 'sending'),
        ),
      );
    told.push(
      ...(await tx
        .select(toldColumns)
        .from(scheduledActionNotices)
        .where(
          and(
            inArray(scheduledActionNotices.targetId, ids),
            eq(scheduledActionNotices.kind, 'notice'),
            eq(scheduledActionNotices.status, 'sent'),
          ),
        )),
    );
  }
  return queueFollowUps(tx, told, input.now);
}

const toldColumns = {
  actionId: scheduledActionNotices.actionId,
  targetId: scheduledActionNotices.targetId,
  userId: scheduledActionNotices.userId,
  instanceId: scheduledActionNotices.instanceId,
  channel: scheduledActionNotices.channel,
  actionAt: scheduledActionNotices.actionAt,
};

/**
 * After deliveries were recorded `sent`: their notices that were cancelled while being sent
 * (`cancelled_at`) get their `cancelled` follow-up now, as a cancel queues it for a notice
 * already sent. Returns whether any was queued (the dispatch then goes on, or rings again).
 */
export async function queueOwedFollowUps(
  db: Db,
  deliveryIds: string[],
  now: Date,
): Promise<boolean> {
  if (!deliveryIds.length) return false;
  const owed = await db
    .select(toldColumns)
    .from(scheduledActionNotices)
    .where(
      and(
        inArray(scheduledActionNotices.deliveryId, deliveryIds),
        eq(scheduledActionNotices.kind, 'notice'),
        eq(scheduledActionNotices.status, 'sent'),
        isNotNull(scheduledActionNotices.cancelledAt),
      ),
    );
  if (!owed.length) return false;
  return db.transaction((tx) => queueFollowUps(tx, owed, now));
}

/**
 * `cancelled` notices due now for these sent notices, grouped per action, user and channel
 * like notices; an open follow-up of the same user and channel takes them too (one message
 * names both). A target that already has its follow-up on a channel gets no second one.
 */
async function queueFollowUps(tx: Db, told: Told[], now: Date): Promise<boolean> {
  let queued = false;
  const byAction = new Map<string, Told[]>();
  for (const t of told) byAction.set(t.actionId, [...(byAction.get(t.actionId) ?? []), t]);
  for (const [actionId, rows] of byAction) {
    const existing = await tx
      .select({
        targetId: scheduledActionNotices.targetId,
        channel: scheduledActionNotices.channel,
      })
      .from(scheduledActionNotices)
      .where(
        and(
          inArray(
            scheduledActionNotices.targetId,
            rows.map((r) => r.targetId),
          ),
          eq(scheduledActionNotices.kind, 'cancelled'),
        ),
      );
    const done = new Set(existing.map((e) => `${e.targetId}|${e.channel}`));
    const fresh = rows.filter((r) => !done.has(`${r.targetId}|${r.channel}`));
    if (!fresh.length) continue;
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
          eq(noticeDeliveries.actionId, actionId),
          eq(noticeDeliveries.kind, 'cancelled'),
          eq(noticeDeliveries.status, 'pending'),
        ),
      );
    const reuse = new Map(open.map((d) => [`${d.userId}|${d.channel}`, d.id]));
    const byTarget = new Map<string, Told & { channels: NoticeChannel[] }>();
    for (const row of fresh) {
      const t = byTarget.get(row.targetId) ?? { ...row, channels: [] };
      t.channels.push(row.channel);
      byTarget.set(row.targetId, t);
    }
    await insertNotices(
      tx,
      { actionId, kind: 'cancelled', channels: [], now },
      [...byTarget.values()].map((t) => ({ ...t, dueAt: now })),
      (t) => byTarget.get(t.targetId)?.channels ?? [],
      reuse,
    );
    queued = true;
  }
  return queued;
}
