import { and, desc, eq, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../../db/client.ts';
import { simOutboxMessages } from '../../../db/dev-schema/index.ts';
import type { Mailer } from '../../adapters/email/mailer.ts';
import type { Pusher } from '../../adapters/push/pusher.ts';
import type { RequestLimiter } from '../../lib/request-limiter.ts';

export type OutboxMessage = typeof simOutboxMessages.$inferSelect;

export type OutboxFilter = {
  recipient?: string;
  channel?: 'email' | 'push';
  kind?: string;
  actionId?: string;
  /** Keyset: messages older than this one (`createdAt|id`). */
  before?: { createdAt: Date; id: string };
  limit?: number;
};

/** The outbox as the console and the admin API read it. */
export type OutboxStore = {
  list(filter: OutboxFilter): Promise<OutboxMessage[]>;
  get(id: string): Promise<OutboxMessage | null>;
};

export type Outbox = { mailer: Mailer; pusher: Pusher; store: OutboxStore };

/**
 * The stand-in for Resend and Expo in embedded mode and tests: every message is a row of
 * `sim_outbox_messages`. Like Resend, a request repeated with the same idempotency key
 * records nothing new: with the same messages it answers the first ids; with other messages
 * (Resend's 409 `invalid_idempotent_request`) it answers what the Resend adapter makes of
 * that 409 — sent, no id — so tests through the outbox meet the provider's rule. Each
 * message's key is the request's key and its place in it. Push tickets are always
 * delivered (receipts `ok`).
 */
export function createOutbox(options: {
  db: Db;
  now: () => Date;
  limiters: { email: RequestLimiter; push: RequestLimiter };
}): Outbox {
  const { db } = options;
  type Row = Omit<typeof simOutboxMessages.$inferInsert, 'createdAt'>;
  const byKey = (key: string) =>
    db
      .select()
      .from(simOutboxMessages)
      .where(sql`starts_with(${simOutboxMessages.idempotencyKey}, ${`${key}#`})`);
  /** The ids recorded under `key` for exactly these rows, in order; null: another body. */
  const replay = (found: OutboxMessage[], rows: Row[], key: string): string[] | null => {
    const at = new Map(found.map((f) => [f.idempotencyKey, f]));
    if (found.length !== rows.length) return null;
    const ids: string[] = [];
    for (const [i, r] of rows.entries()) {
      const f = at.get(`${key}#${i}`);
      const same =
        f &&
        f.recipient === r.recipient &&
        f.subject === r.subject &&
        f.text === r.text &&
        (f.html ?? null) === (r.html ?? null) &&
        JSON.stringify(f.tags) === JSON.stringify(r.tags);
      if (!same) return null;
      ids.push(f.id);
    }
    return ids;
  };
  const mailer: Mailer = {
    maxBatch: 100,
    limiter: options.limiters.email,
    async sendBatch(messages, { idempotencyKey }) {
      const rows: Row[] = messages.map((m, i) => ({
        channel: 'email' as const,
        recipient: m.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        tags: m.tags,
        idempotencyKey: `${idempotencyKey}#${i}`,
      }));
      let found = await byKey(idempotencyKey);
      if (!found.length) {
        const createdAt = options.now();
        await db
          .insert(simOutboxMessages)
          .values(rows.map((r) => ({ ...r, createdAt })))
          .onConflictDoNothing();
        found = await byKey(idempotencyKey);
      }
      const ids = replay(found, rows, idempotencyKey);
      return new Map(
        messages.map((m, i) => [
          m.id,
          { status: 'sent' as const, providerMessageId: ids ? `outbox_${ids[i]}` : null },
        ]),
      );
    },
  };
  const pusher: Pusher = {
    maxBatch: 100,
    limiter: options.limiters.push,
    async sendBatch(messages) {
      const createdAt = options.now();
      const rows = messages.map((m) => ({
        id: crypto.randomUUID(),
        channel: 'push' as const,
        recipient: m.to,
        subject: m.title,
        text: m.body,
        html: null,
        tags: m.data,
        idempotencyKey: null,
        createdAt,
      }));
      await db.insert(simOutboxMessages).values(rows);
      return new Map(
        messages.map((m, i) => [
          m.id,
          { status: 'sent' as const, ticketId: `outbox_${rows[i]?.id}` },
        ]),
      );
    },
    async getReceipts(ticketIds) {
      return Object.fromEntries(ticketIds.map((id) => [id, { ok: true as const }]));
    },
  };
  const store: OutboxStore = {
    async list(filter) {
      const where: SQL[] = [];
      if (filter.recipient)
        where.push(
          sql`lower(${simOutboxMessages.recipient}) like ${`%${filter.recipient.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`,
        );
      if (filter.channel) where.push(eq(simOutboxMessages.channel, filter.channel));
      if (filter.kind) where.push(sql`${simOutboxMessages.tags}->>'kind' = ${filter.kind}`);
      if (filter.actionId)
        where.push(sql`${simOutboxMessages.tags}->>'actionId' = ${filter.actionId}`);
      if (filter.before)
        where.push(
          or(
            lt(simOutboxMessages.createdAt, filter.before.createdAt),
            and(
              eq(simOutboxMessages.createdAt, filter.before.createdAt),
              lt(simOutboxMessages.id, filter.before.id),
            ),
          ) as SQL,
        );
      return db
        .select()
        .from(simOutboxMessages)
        .where(where.length ? and(...where) : undefined)
        .orderBy(desc(simOutboxMessages.createdAt), desc(simOutboxMessages.id))
        .limit(filter.limit ?? 50);
    },
    async get(id) {
      const [row] = await db.select().from(simOutboxMessages).where(eq(simOutboxMessages.id, id));
      return row ?? null;
    },
  };
  return { mailer, pusher, store };
}
