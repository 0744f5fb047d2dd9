import { encodeBase64 } from 'hono/utils/encode';
import type { Db } from '../../../db/client.ts';
import { randomAlphanumeric, sha256Hex } from '../../lib/crypto.ts';
import type { PublishConfig } from './config.ts';
import type { EmulatorContext } from './context.ts';
import { addEvent, insertMessage, reserveDedupKey } from './store.ts';

export type PublishInput = {
  destination: string;
  config: PublishConfig;
  body: Uint8Array<ArrayBuffer>;
  scheduleId?: string | null;
  callerIp?: string | null;
};

export type PublishResult = { messageId: string; url: string; deduplicated?: boolean };

/** A stored message's due time, for waking the delivery loop once the transaction commits. */
type Stored = PublishResult & { dueAt?: Date };

export const newMessageId = () => `msg_${randomAlphanumeric(28)}`;

/** Content-based dedup hashes the destination, body, Content-Type and forwarded headers. */
async function contentKey(input: PublishInput): Promise<string> {
  const headers = Object.entries(input.config.forward)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}:${v}`)
    .join('\n');
  return `content:${await sha256Hex(`${input.destination}\n${headers}\n${encodeBase64(input.body.buffer)}`)}`;
}

/**
 * Stores one message (within the caller's transaction when `db` is one). A duplicate
 * (same deduplication id, or same content with content-based dedup, within ten minutes)
 * is not stored: the result names the existing message with `deduplicated: true`.
 * Source: upstash/docs `qstash/features/deduplication.mdx`.
 */
export async function publishWith(
  ctx: EmulatorContext,
  db: Db,
  input: PublishInput,
): Promise<Stored> {
  const now = ctx.now();
  const messageId = newMessageId();
  const { config } = input;
  const dedupKey = config.deduplicationId
    ? `id:${config.deduplicationId}`
    : config.contentBasedDeduplication
      ? await contentKey(input)
      : null;
  if (dedupKey) {
    const existing = await reserveDedupKey(db, dedupKey, messageId, now);
    if (existing) return { messageId: existing, url: input.destination, deduplicated: true };
  }
  const dueAt =
    config.notBefore !== null
      ? new Date(config.notBefore * 1000)
      : new Date(now.getTime() + config.delaySeconds * 1000);
  await insertMessage(db, {
    messageId,
    destination: input.destination,
    method: config.method,
    headers: config.forward,
    bodyBase64: encodeBase64(input.body.buffer),
    notBefore: dueAt,
    maxRetries: config.retries,
    retryDelayExpression: config.retryDelayExpression,
    timeoutSeconds: config.timeoutSeconds,
    callback: config.callback,
    failureCallback: config.failureCallback,
    scheduleId: input.scheduleId ?? null,
    callerIp: input.callerIp ?? null,
    status: 'pending',
    nextAttemptAt: dueAt,
    createdAt: now,
  });
  await addEvent(db, {
    messageId,
    state: 'CREATED',
    url: input.destination,
    time: now,
    nextDeliveryTime: dueAt,
    scheduleId: input.scheduleId ?? null,
  });
  return { messageId, url: input.destination, dueAt };
}

/** {@link publishWith} in its own transaction; wakes the delivery loop after commit. */
export async function publish(ctx: EmulatorContext, input: PublishInput): Promise<PublishResult> {
  const { dueAt, ...result } = await ctx.db.transaction((tx) => publishWith(ctx, tx, input));
  if (dueAt) ctx.notify(dueAt);
  return result;
}
