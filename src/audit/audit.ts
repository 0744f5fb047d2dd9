import { and, desc, eq, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { auditLog } from '../../db/schema/index.ts';
import type { Actor } from '../deps.ts';
import { type Cursor, decodeCursor, encodeCursor, type Page } from '../lib/cursor.ts';

export type AuditEntry = {
  action: string;
  subjectType?: string;
  subjectId?: string;
  payload?: Record<string, unknown>;
};

export type AuditRow = typeof auditLog.$inferSelect;

/**
 * Appends one audit row. Call it with the transaction that makes the change, so the entry
 * exists exactly when the change does. Payloads must never hold secrets. A platform
 * request acting for a user adds `forUser: <user id>` to the payload.
 */
export async function recordAudit(
  db: Db,
  who: { actor: Actor; requestId: string | null },
  entry: AuditEntry,
): Promise<void> {
  await db.insert(auditLog).values({
    actorType: who.actor.type,
    actorId: who.actor.id,
    actorLabel: who.actor.label,
    action: entry.action,
    subjectType: entry.subjectType ?? null,
    subjectId: entry.subjectId ?? null,
    // A platform request's change names the user it was made for (`forUser`).
    payload:
      who.actor.type === 'api_key' && who.actor.userId
        ? { ...entry.payload, forUser: who.actor.userId }
        : (entry.payload ?? {}),
    requestId: who.requestId,
  });
}

export type AuditFilter = {
  /** Matches the actor's id or label (email, key prefix) exactly. */
  actor?: string;
  /** An action name, or a prefix ending in `.` (e.g. `api_key.`). */
  action?: string;
  subjectType?: string;
  subjectId?: string;
  cursor?: string;
  limit?: number;
};

/** Newest first, keyset-paginated on `(at, id)`. */
export async function listAudit(db: Db, filter: AuditFilter): Promise<Page<AuditRow>> {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 200);
  const where: SQL[] = [];
  if (filter.actor)
    where.push(
      or(eq(auditLog.actorId, filter.actor), eq(auditLog.actorLabel, filter.actor)) as SQL,
    );
  if (filter.action) {
    where.push(
      filter.action.endsWith('.')
        ? sql`${auditLog.action} like ${`${filter.action.replace(/[\\%_]/g, '\\$&')}%`}`
        : eq(auditLog.action, filter.action),
    );
  }
  if (filter.subjectType) where.push(eq(auditLog.subjectType, filter.subjectType));
  if (filter.subjectId) where.push(eq(auditLog.subjectId, filter.subjectId));
  const cursor: Cursor | null = filter.cursor ? decodeCursor(filter.cursor, 'date') : null;
  const base = where.length ? and(...where) : undefined;

  if (cursor?.dir === 'before') {
    const at = new Date(String(cursor.key));
    const rows = await db
      .select()
      .from(auditLog)
      .where(
        and(
          base,
          sql`(${auditLog.at}, ${auditLog.id}) > (${at.toISOString()}::timestamptz, ${cursor.id}::uuid)`,
        ),
      )
      .orderBy(auditLog.at, auditLog.id)
      .limit(limit + 1);
    const hasMore = rows.length > limit;
    const items = rows.slice(0, limit).reverse();
    return page(items, { hasNext: true, hasPrev: hasMore });
  }
  const rows = await db
    .select()
    .from(auditLog)
    .where(
      cursor
        ? and(
            base,
            sql`(${auditLog.at}, ${auditLog.id}) < (${new Date(String(cursor.key)).toISOString()}::timestamptz, ${cursor.id}::uuid)`,
          )
        : base,
    )
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(limit + 1);
  const hasMore = rows.length > limit;
  return page(rows.slice(0, limit), { hasNext: hasMore, hasPrev: cursor !== null });
}

function page(items: AuditRow[], more: { hasNext: boolean; hasPrev: boolean }): Page<AuditRow> {
  const first = items[0];
  const last = items.at(-1);
  return {
    items,
    next:
      more.hasNext && last
        ? encodeCursor({ key: last.at.toISOString(), id: last.id, dir: 'after' })
        : null,
    prev:
      more.hasPrev && first
        ? encodeCursor({ key: first.at.toISOString(), id: first.id, dir: 'before' })
        : null,
  };
}

/** Distinct action names seen, for the console's filter drop-down. */
export async function auditActions(db: Db): Promise<string[]> {
  const rows = await db
    .selectDistinct({ action: auditLog.action })
    .from(auditLog)
    .orderBy(auditLog.action);
  return rows.map((r) => r.action);
}
