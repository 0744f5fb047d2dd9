import { and, asc, desc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { scheduledActionNoticeSettings, scheduledActionNotices } from '../../db/schema/index.ts';
import { actionSummaries, targetAwaitsStart } from '../scheduler/for-notices.ts';
import type { NoticeChannel, NoticeKind, NoticeSettingsRow, NoticeStatus } from './model.ts';

export type NoticeCount = {
  channel: NoticeChannel;
  kind: NoticeKind;
  status: NoticeStatus;
  /** Per-instance notice rows. */
  notices: number;
  /** Deliveries (messages): one per user and channel, naming their instances. */
  messages: number;
};

export type ActionNotices = {
  settings: NoticeSettingsRow | null;
  counts: NoticeCount[];
  failed: (typeof scheduledActionNotices.$inferSelect)[];
};

/** An action's notice settings, counts by channel, kind and status, and its failed notices (up to 200). */
export async function actionNotices(db: Db, actionId: string): Promise<ActionNotices> {
  const [settings] = await db
    .select()
    .from(scheduledActionNoticeSettings)
    .where(eq(scheduledActionNoticeSettings.actionId, actionId));
  const n = scheduledActionNotices;
  const counts = await db
    .select({
      channel: n.channel,
      kind: n.kind,
      status: n.status,
      notices: sql<number>`count(*)::int`,
      messages: sql<number>`count(distinct ${n.deliveryId})::int`,
    })
    .from(n)
    .where(eq(n.actionId, actionId))
    .groupBy(n.channel, n.kind, n.status)
    .orderBy(n.channel, n.kind, n.status);
  const failed = await db
    .select()
    .from(n)
    .where(and(eq(n.actionId, actionId), eq(n.status, 'failed')))
    .orderBy(desc(n.dueAt), asc(n.id))
    .limit(200);
  return { settings: settings ?? null, counts, failed };
}

/** What the in-app banner shows about an instance's upcoming action. */
export type UpcomingAction = {
  actionId: string;
  targetId: string;
  actionType: 'restart' | 'version_change';
  targetImageTag: string | null;
  /** When the instance's stage is due (UTC). */
  scheduledAt: Date;
  /** When the banner's notice window opened. */
  noticeAt: Date;
  subject: string | null;
  body: string | null;
};

/**
 * The instance's upcoming action for the banner, or null. Shown only when a `webapp`
 * notice exists for its target (notify off, or webapp not chosen: no banner), once its
 * lead window has opened (`due_at` ≤ `now`), while it was not cancelled (`failed`), and
 * while the target still awaits its start in a live action.
 */
export async function upcomingAction(
  db: Db,
  instanceId: string,
  now: Date,
): Promise<UpcomingAction | null> {
  const n = scheduledActionNotices;
  const [row] = await db
    .select({
      actionId: n.actionId,
      targetId: n.targetId,
      actionAt: n.actionAt,
      dueAt: n.dueAt,
    })
    .from(n)
    .where(
      and(
        eq(n.instanceId, instanceId),
        eq(n.channel, 'webapp'),
        eq(n.kind, 'notice'),
        inArray(n.status, ['pending', 'sending', 'sent']),
        lte(n.dueAt, now),
        targetAwaitsStart(sql`${n.targetId}`),
      ),
    )
    .orderBy(asc(n.actionAt))
    .limit(1);
  if (!row) return null;
  const [action] = [...(await actionSummaries(db, [row.actionId])).values()];
  const [settings] = await db
    .select()
    .from(scheduledActionNoticeSettings)
    .where(eq(scheduledActionNoticeSettings.actionId, row.actionId));
  if (!action) return null;
  return {
    actionId: row.actionId,
    targetId: row.targetId,
    actionType: action.actionType,
    targetImageTag: action.targetImageTag,
    scheduledAt: row.actionAt,
    noticeAt: row.dueAt,
    subject: settings?.subject ?? null,
    body: settings?.body ?? null,
  };
}
