import { and, asc, desc, eq, inArray, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../../db/client.ts';
import {
  simQstashDedup,
  simQstashDlq,
  simQstashEvents,
  simQstashMessages,
} from '../../../db/dev-schema/qstash-emulator.ts';

export type MessageRow = typeof simQstashMessages.$inferSelect;
export type DlqRow = typeof simQstashDlq.$inferSelect;
export type EventState = (typeof simQstashEvents.$inferInsert)['state'];

/** Persistence of the emulator's messages, dedup keys, DLQ and event log. */

export async function insertMessage(
  db: Db,
  row: typeof simQstashMessages.$inferInsert,
): Promise<void> {
  await db.insert(simQstashMessages).values(row);
}

/**
 * Claims a deduplication key for `messageId` for ten minutes (QStash's window). Returns
 * the id of the message already holding a live key, or null when this one got it.
 */
export async function reserveDedupKey(
  db: Db,
  key: string,
  messageId: string,
  now: Date,
): Promise<string | null> {
  const expiresAt = new Date(now.getTime() + 10 * 60_000);
  const [row] = await db
    .insert(simQstashDedup)
    .values({ key, messageId, expiresAt })
    .onConflictDoUpdate({
      target: simQstashDedup.key,
      set: { messageId, expiresAt },
      // Only an expired key is taken over; a live one keeps its message.
      setWhere: lt(simQstashDedup.expiresAt, now),
    })
    .returning({ messageId: simQstashDedup.messageId });
  if (row) return null;
  const [existing] = await db.select().from(simQstashDedup).where(eq(simQstashDedup.key, key));
  return existing?.messageId ?? null;
}

export async function getMessage(db: Db, messageId: string): Promise<MessageRow | null> {
  const [row] = await db
    .select()
    .from(simQstashMessages)
    .where(eq(simQstashMessages.messageId, messageId));
  return row ?? null;
}

/** Cancels pending messages; returns the ids actually cancelled (delivering ones are not). */
export async function cancelMessages(
  db: Db,
  where: SQL | undefined,
  now: Date,
  limit = 1000,
): Promise<MessageRow[]> {
  return db
    .update(simQstashMessages)
    .set({ status: 'cancelled', finishedAt: now })
    .where(
      inArray(
        simQstashMessages.messageId,
        db
          .select({ id: simQstashMessages.messageId })
          .from(simQstashMessages)
          .where(and(eq(simQstashMessages.status, 'pending'), where))
          .limit(limit),
      ),
    )
    .returning();
}

/**
 * Claims up to `limit` due messages for delivery: pending and due, or delivering with an
 * expired lock (a crashed delivery). `FOR UPDATE SKIP LOCKED` lets several processes
 * share the work without delivering a message twice at once.
 */
export async function claimDue(
  db: Db,
  now: Date,
  limit: number,
  lockMs: number,
): Promise<MessageRow[]> {
  const due = db
    .select({ id: simQstashMessages.messageId })
    .from(simQstashMessages)
    .where(
      or(
        and(eq(simQstashMessages.status, 'pending'), lte(simQstashMessages.nextAttemptAt, now)),
        and(eq(simQstashMessages.status, 'delivering'), lt(simQstashMessages.lockedUntil, now)),
      ),
    )
    .orderBy(asc(simQstashMessages.nextAttemptAt))
    .limit(limit)
    .for('update', { skipLocked: true });
  return db
    .update(simQstashMessages)
    .set({ status: 'delivering', lockedUntil: new Date(now.getTime() + lockMs) })
    .where(inArray(simQstashMessages.messageId, due))
    .returning();
}

/** The earliest time anything becomes due (a pending attempt), or null. */
export async function nextDueAt(db: Db): Promise<Date | null> {
  const [row] = await db
    .select({
      at: sql<Date | null>`min(${simQstashMessages.nextAttemptAt})`.mapWith((v) =>
        v ? new Date(v) : null,
      ),
    })
    .from(simQstashMessages)
    .where(eq(simQstashMessages.status, 'pending'));
  return row?.at ?? null;
}

/** Records an attempt's outcome, guarded by the delivering state (a late duplicate is a no-op). */
export async function finishAttempt(
  db: Db,
  messageId: string,
  set: Partial<typeof simQstashMessages.$inferInsert>,
): Promise<MessageRow | null> {
  const [row] = await db
    .update(simQstashMessages)
    .set({ ...set, lockedUntil: null })
    .where(
      and(eq(simQstashMessages.messageId, messageId), eq(simQstashMessages.status, 'delivering')),
    )
    .returning();
  return row ?? null;
}

export async function addEvent(db: Db, event: typeof simQstashEvents.$inferInsert): Promise<void> {
  await db.insert(simQstashEvents).values(event);
}

export async function addEvents(
  db: Db,
  events: (typeof simQstashEvents.$inferInsert)[],
): Promise<void> {
  if (events.length) await db.insert(simQstashEvents).values(events);
}

/** Marks delivered in one statement; returns the ids that were still delivering. */
export async function markDelivered(
  db: Db,
  rows: { messageId: string; status: number }[],
  now: Date,
): Promise<string[]> {
  if (!rows.length) return [];
  const values = sql.join(
    rows.map((r) => sql`(${r.messageId}, ${r.status}::int)`),
    sql`, `,
  );
  const result = await queryRows<{ message_id: string }>(
    db,
    sql`update ${simQstashMessages} m
        set status = 'delivered', finished_at = ${now.toISOString()}::timestamptz, last_status = v.status,
            last_error = null, locked_until = null
        from (values ${values}) as v(id, status)
        where m.message_id = v.id and m.status = 'delivering'
        returning m.message_id`,
  );
  return result.map((r) => r.message_id);
}

export async function listEvents(
  db: Db,
  filter: {
    messageId?: string;
    state?: string;
    url?: string;
    scheduleId?: string;
    cursor?: number;
    count: number;
  },
) {
  const where: (SQL | undefined)[] = [];
  if (filter.messageId) where.push(eq(simQstashEvents.messageId, filter.messageId));
  if (filter.state) where.push(sql`${simQstashEvents.state} = ${filter.state}`);
  if (filter.url) where.push(eq(simQstashEvents.url, filter.url));
  if (filter.scheduleId) where.push(eq(simQstashEvents.scheduleId, filter.scheduleId));
  if (filter.cursor) where.push(lt(simQstashEvents.id, filter.cursor));
  return db
    .select()
    .from(simQstashEvents)
    .where(and(...where))
    .orderBy(desc(simQstashEvents.id))
    .limit(filter.count + 1);
}

export async function insertDlq(db: Db, row: typeof simQstashDlq.$inferInsert): Promise<void> {
  await db.insert(simQstashDlq).values(row);
}

export async function listDlq(
  db: Db,
  filter: { dlqIds?: string[]; messageId?: string; url?: string; cursor?: string; count: number },
) {
  const where: (SQL | undefined)[] = [];
  if (filter.dlqIds?.length) where.push(inArray(simQstashDlq.dlqId, filter.dlqIds));
  if (filter.messageId) where.push(eq(simQstashDlq.messageId, filter.messageId));
  if (filter.url) where.push(sql`${simQstashDlq.message}->>'destination' = ${filter.url}`);
  if (filter.cursor) where.push(lt(simQstashDlq.dlqId, filter.cursor));
  return db
    .select()
    .from(simQstashDlq)
    .where(and(...where))
    .orderBy(desc(simQstashDlq.dlqId))
    .limit(filter.count + 1);
}

/** Removes DLQ entries and returns them (retry re-publishes what it removed). */
export async function takeDlq(db: Db, dlqIds: string[] | 'all', limit = 100): Promise<DlqRow[]> {
  const ids = db
    .select({ id: simQstashDlq.dlqId })
    .from(simQstashDlq)
    .where(dlqIds === 'all' ? undefined : inArray(simQstashDlq.dlqId, dlqIds))
    .orderBy(asc(simQstashDlq.dlqId))
    .limit(limit);
  return db.delete(simQstashDlq).where(inArray(simQstashDlq.dlqId, ids)).returning();
}
