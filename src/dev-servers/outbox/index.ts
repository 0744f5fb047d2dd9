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
 * records nothing new and answers the first ids (each message's key is the request's key
 * and its place in it). Push tickets are always delivered (receipts `ok`).
 */
export function createOutbox(options: {
  db: Db;
  now: () => Date;
  limiters: { email: RequestLimiter; push: RequestLimiter };
}): Outbox {
  const { db } = options;
  const record = async (
    rows: Omit<typeof simOutboxMessages.$inferInsert, 'createdAt'>[],
  ): Promise<string[]> => {
    const createdAt = options.now();
    await db
      .insert(simOutboxMessages)
      .values(rows.map((r) => ({ ...r, createdAt })))
      .onConflictDoNothing();
    const keyed = rows.filter((r) => r.idempotencyKey).map((r) => r.idempotencyKey as string);
    const found = keyed.length
      ? await db
          .select({ id: simOutboxMessages.id, key: simOutboxMessages.idempotencyKey })
          .from(simOutboxMessages)
          .where(sql`${simOutboxMessages.idempotencyKey} in ${keyed}`)
      : [];
    const byKey = new Map(found.map((f) => [f.key, f.id]));
    return rows.map((r) => (r.idempotencyKey ? (byKey.get(r.idempotencyKey) ?? '') : (r.id ?? '')));
  };
  const mailer: Mailer = {
    maxBatch: 100,
    limiter: options.limiters.email,
    async sendBatch(messages, { idempotencyKey }) {
      const ids = await record(
        messages.map((m, i) => ({
          channel: 'email' as const,
          recipient: m.to,
          subject: m.subject,
          text: m.text,
          html: m.html,
          tags: m.tags,
          idempotencyKey: `${idempotencyKey}#${i}`,
        })),
      );
      return ids.map((id) => ({ ok: true as const, providerMessageId: `outbox_${id}` }));
    },
  };
  const pusher: Pusher = {
    maxBatch: 100,
    limiter: options.limiters.push,
    async sendBatch(messages) {
      const rows = messages.map((m) => ({
        id: crypto.randomUUID(),
        channel: 'push' as const,
        recipient: m.to,
        subject: m.title,
        text: m.body,
        html: null,
        tags: m.data,
        idempotencyKey: null,
      }));
      const ids = await record(rows);
      return ids.map((id) => ({ ok: true as const, ticketId: `outbox_${id}` }));
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
