import { eq, sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/client.ts';
import { scheduledActionNoticeSettings } from '../../db/schema/index.ts';
import type { Ctx } from '../deps.ts';
import { type NoticeChannel, type NoticeSettings, noticeDoorbell } from './model.ts';

/** A target as the scheduler hands it to planning: whose instance, and its stage time. */
export type PlannedTarget = {
  targetId: string;
  userId: string;
  instanceId: string;
  /** When its stage is due. */
  actionAt: Date;
};

const ROWS_PER_STATEMENT = 5_000;

/** `actionAt − lead`, never before `now`. */
export const dueFor = (actionAt: Date, leadMinutes: number, now: Date) =>
  new Date(Math.max(now.getTime(), actionAt.getTime() - leadMinutes * 60_000));

/**
 * Plans an action's notices, inside the transaction that schedules it: the settings row,
 * then (with `notify` and at least one channel) one delivery per (user, channel) due at the
 * earliest of that user's notices, and one notice per (target, channel) due at its stage
 * time − lead (clamped to `now`). Rows go in as JSON record sets, thousands per statement.
 * Returns the distinct due times, for {@link ringNoticeTimes} after commit.
 */
export async function planNotices(
  tx: Db,
  input: {
    actionId: string;
    settings: NoticeSettings;
    targets: PlannedTarget[];
    now: Date;
  },
): Promise<Date[]> {
  const { settings, actionId, now } = input;
  await tx.insert(scheduledActionNoticeSettings).values({
    actionId,
    notify: settings.notify,
    leadMinutes: settings.leadMinutes,
    subject: settings.subject,
    body: settings.body,
    channels: settings.channels,
    createdAt: now,
  });
  if (!settings.notify || settings.channels.length === 0) return [];
  return insertNotices(
    tx,
    { actionId, kind: 'notice', channels: settings.channels, now },
    input.targets.map((t) => ({ ...t, dueAt: dueFor(t.actionAt, settings.leadMinutes, now) })),
  );
}

/** Inserts deliveries (one per user and channel) and their notices; returns distinct due times. */
export async function insertNotices(
  tx: Db,
  group: { actionId: string; kind: 'notice' | 'cancelled'; channels: NoticeChannel[]; now: Date },
  targets: (PlannedTarget & { dueAt: Date })[],
  channelsOf: (t: PlannedTarget) => NoticeChannel[] = () => group.channels,
  /** Open deliveries to add to instead of creating one, by `${userId}|${channel}`. */
  reuse: Map<string, string> = new Map(),
): Promise<Date[]> {
  const deliveries = new Map<
    string,
    { id: string; userId: string; channel: NoticeChannel; due: number }
  >();
  const notices: Record<string, unknown>[] = [];
  for (const t of targets) {
    for (const channel of channelsOf(t)) {
      const key = `${t.userId}|${channel}`;
      let d = deliveries.get(key);
      if (!d) {
        d = {
          id: reuse.get(key) ?? crypto.randomUUID(),
          userId: t.userId,
          channel,
          due: t.dueAt.getTime(),
        };
        deliveries.set(key, d);
      }
      d.due = Math.min(d.due, t.dueAt.getTime());
      notices.push({
        action_id: group.actionId,
        target_id: t.targetId,
        instance_id: t.instanceId,
        user_id: t.userId,
        delivery_id: d.id,
        kind: group.kind,
        channel,
        due_at: t.dueAt.toISOString(),
        action_at: t.actionAt.toISOString(),
      });
    }
  }
  const rows = [...deliveries.values()]
    .filter((d) => ![...reuse.values()].includes(d.id))
    .map((d) => ({
      id: d.id,
      action_id: group.actionId,
      user_id: d.userId,
      kind: group.kind,
      channel: d.channel,
      next_attempt_at: new Date(d.due).toISOString(),
    }));
  const created = group.now.toISOString();
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT)
    await tx.execute(sql`
      insert into notice_deliveries (id, action_id, user_id, kind, channel, next_attempt_at, created_at)
      select id, action_id, user_id, kind, channel, next_attempt_at, ${created}::timestamptz
      from jsonb_to_recordset(${JSON.stringify(rows.slice(i, i + ROWS_PER_STATEMENT))}::jsonb)
        as x(id uuid, action_id uuid, user_id uuid, kind text, channel text, next_attempt_at timestamptz)`);
  for (let i = 0; i < notices.length; i += ROWS_PER_STATEMENT)
    await tx.execute(sql`
      insert into scheduled_action_notices
        (action_id, target_id, instance_id, user_id, delivery_id, kind, channel, due_at, action_at, created_at)
      select action_id, target_id, instance_id, user_id, delivery_id, kind, channel, due_at, action_at, ${created}::timestamptz
      from jsonb_to_recordset(${JSON.stringify(notices.slice(i, i + ROWS_PER_STATEMENT))}::jsonb)
        as x(action_id uuid, target_id uuid, instance_id uuid, user_id uuid, delivery_id uuid,
             kind text, channel text, due_at timestamptz, action_at timestamptz)`);
  return [...new Set(rows.map((r) => Date.parse(r.next_attempt_at)))].map((ms) => new Date(ms));
}

/**
 * When an action resumes, inside that transaction: each unsent notice of a target that is
 * pending again follows its stage's new time (due = new time − lead, clamped to `now`;
 * `targets` is empty for a paused action, whose times did not move), and each pending
 * delivery, held ones included, is due again at its earliest notice. Returns the distinct
 * due times to ring.
 */
export async function replanNotices(
  tx: Db,
  input: { actionId: string; targets: { targetId: string; actionAt: Date }[]; now: Date },
): Promise<Date[]> {
  const [settings] = await tx
    .select()
    .from(scheduledActionNoticeSettings)
    .where(eq(scheduledActionNoticeSettings.actionId, input.actionId));
  if (!settings?.notify) return [];
  const rows = input.targets.map((t) => ({
    target_id: t.targetId,
    action_at: t.actionAt.toISOString(),
    due_at: dueFor(t.actionAt, settings.leadMinutes, input.now).toISOString(),
  }));
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT)
    await tx.execute(sql`
      update scheduled_action_notices n set due_at = x.due_at, action_at = x.action_at
      from jsonb_to_recordset(${JSON.stringify(rows.slice(i, i + ROWS_PER_STATEMENT))}::jsonb)
        as x(target_id uuid, action_at timestamptz, due_at timestamptz)
      where n.target_id = x.target_id and n.kind = 'notice' and n.status = 'pending'`);
  const due = await queryRows<{ ms: string | number }>(
    tx,
    sql`
    update notice_deliveries d set next_attempt_at = m.due
    from (select delivery_id, min(due_at) as due from scheduled_action_notices
          where action_id = ${input.actionId} and kind = 'notice' and status = 'pending'
          group by delivery_id) m
    where d.id = m.delivery_id and d.status = 'pending'
    returning (extract(epoch from m.due) * 1000)::bigint as ms`,
  );
  return [...new Set(due.map((r) => Math.max(Number(r.ms), input.now.getTime())))].map(
    (ms) => new Date(ms),
  );
}

/** Past this many rows planned at once, the notice tables' statistics are refreshed. */
const ANALYZE_AFTER_ROWS = 10_000;

/**
 * After a large plan committed: refreshes the planner's statistics of the notice tables
 * (a bulk insert of tens of thousands of rows would otherwise leave the claim's plan
 * built for an empty table until autovacuum catches up), then rings the due times.
 */
export async function noticesPlanned(
  ctx: Pick<Ctx, 'db' | 'doorbells' | 'log' | 'clock'>,
  actionId: string,
  planned: { times: Date[]; rows: number },
): Promise<void> {
  if (planned.rows >= ANALYZE_AFTER_ROWS)
    await ctx.db
      // The claim's gate joins the action's targets too (scheduler-owned: maintenance only).
      .execute(sql`analyze scheduled_action_notices, notice_deliveries, scheduled_action_targets`)
      .catch((err) => ctx.log.warn('notices.analyze_failed', { error: err }));
  await ringNoticeTimes(ctx, actionId, planned.times);
}

/**
 * Rings one dispatch doorbell per distinct due time (after the planning transaction
 * committed). A failed publish is logged: the sweep finds the due rows within a minute.
 */
export async function ringNoticeTimes(
  ctx: Pick<Ctx, 'doorbells' | 'log' | 'clock'>,
  actionId: string,
  times: Date[],
): Promise<void> {
  if (!times.length) return;
  const now = ctx.clock.now();
  try {
    for (let i = 0; i < times.length; i += 100)
      await ctx.doorbells.ringMany(
        times.slice(i, i + 100).map((at) => noticeDoorbell(actionId, at, now)),
      );
  } catch (err) {
    ctx.log.warn('notices.ring_failed', {
      actionId,
      times: times.length,
      error: err,
      hint: 'the sweep dispatches due notices',
    });
  }
}
