import { decodeBase64, encodeBase64 } from 'hono/utils/encode';
import { DEFAULT_RETRIES } from './config.ts';
import type { EmulatorContext } from './context.ts';
import { newDlqId } from './ids.ts';
import { publish } from './publish.ts';
import { defaultBackoffMs, retryAfterMs, retryDelayMs } from './retry.ts';
import { signDelivery } from './signing.ts';
import {
  addEvent,
  addEvents,
  finishAttempt,
  insertDlq,
  type MessageRow,
  markDelivered,
} from './store.ts';

const DEFAULT_TIMEOUT_SECONDS = 30;
const MAX_RESPONSE_BODY = 64 * 1024;

export type Attempt = {
  status: number | null;
  headers: Headers;
  body: string;
  error: string | null;
};

/** Sends one delivery exactly as QStash does (signature, message id, retry count). */
export async function send(ctx: EmulatorContext, m: MessageRow): Promise<Attempt> {
  const body = decodeBase64(m.bodyBase64);
  const headers = new Headers(m.headers);
  headers.set(
    'Upstash-Signature',
    await signDelivery({ url: m.destination, body, signingKey: ctx.signingKeys.current }),
  );
  headers.set('Upstash-Message-Id', m.messageId);
  headers.set('Upstash-Retried', String(m.retried));
  headers.set('User-Agent', 'Upstash-QStash');
  if (m.scheduleId) headers.set('Upstash-Schedule-Id', m.scheduleId);
  if (m.callerIp) headers.set('Upstash-Caller-Ip', m.callerIp);
  try {
    const res = await ctx.fetch(
      new Request(m.destination, {
        method: m.method,
        headers,
        body: m.method === 'GET' ? undefined : body,
        signal: AbortSignal.timeout((m.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000),
      }),
    );
    const text = (await res.text()).slice(0, MAX_RESPONSE_BODY);
    return {
      status: res.status,
      headers: res.headers,
      body: text,
      error: res.ok ? null : `HTTP ${res.status}`,
    };
  } catch (err) {
    return {
      status: null,
      headers: new Headers(),
      body: '',
      error: err instanceof Error ? err.message : String(err),
    };
  }
}

function headerRecord(headers: Headers): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of headers) out[k] = [...(out[k] ?? []), v];
  return out;
}

/** Callbacks are new messages to the callback URL describing the attempt (callbacks.mdx). */
async function publishCallback(
  ctx: EmulatorContext,
  url: string,
  m: MessageRow,
  attempt: Attempt,
  extra: Record<string, unknown> = {},
) {
  const payload = {
    status: attempt.status ?? 0,
    header: headerRecord(attempt.headers),
    body: encodeBase64(new TextEncoder().encode(attempt.body).buffer),
    retried: m.retried,
    maxRetries: m.maxRetries,
    sourceMessageId: m.messageId,
    url: m.destination,
    method: m.method,
    sourceHeader: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, [v]])),
    sourceBody: m.bodyBase64,
    notBefore: String(m.notBefore.getTime()),
    createdAt: String(m.createdAt.getTime()),
    ...(m.scheduleId ? { scheduleId: m.scheduleId } : {}),
    ...extra,
  };
  await publish(ctx, {
    destination: url,
    body: new TextEncoder().encode(JSON.stringify(payload)),
    config: {
      method: 'POST',
      forward: { 'content-type': 'application/json' },
      delaySeconds: 0,
      notBefore: null,
      retries: DEFAULT_RETRIES,
      retryDelayExpression: null,
      timeoutSeconds: null,
      callback: null,
      failureCallback: null,
      deduplicationId: null,
      contentBasedDeduplication: false,
    },
  });
}

/** Milliseconds before the next retry: Retry-After, else the message's expression, else QStash's default. */
function retryDelay(ctx: EmulatorContext, m: MessageRow, attempt: Attempt): number {
  const asked = retryAfterMs(attempt.headers, Date.now());
  let ms: number;
  if (asked !== null) ms = asked;
  else if (m.retryDelayExpression) ms = retryDelayMs(m.retryDelayExpression, m.retried);
  else ms = defaultBackoffMs(m.retried + 1);
  return ms * ctx.timeScale;
}

async function pool<T>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await work(item);
    }
  });
  await Promise.all(workers);
}

/**
 * Delivers claimed messages (at most `concurrency` at once) and records each outcome,
 * guarded by the `delivering` state so a late duplicate changes nothing: 2xx is
 * delivered; 489 with `Upstash-NonRetryable-Error: true`, or the last retry failing,
 * moves the message to the DLQ and calls the failure callback; anything else schedules a
 * retry. Returns how many were attempted.
 * Source: upstash/docs `qstash/features/retry.mdx`, `dlq.mdx`, `callbacks.mdx`.
 */
export async function deliverBatch(
  ctx: EmulatorContext,
  messages: MessageRow[],
  concurrency: number,
): Promise<number> {
  const results: Delivered[] = [];
  await pool(messages, concurrency, async (m) => {
    results.push({ m, attempt: await send(ctx, m) });
  });
  await recordDelivered(
    ctx,
    results.filter((r) => isOk(r.attempt)),
  );
  for (const { m, attempt } of results)
    if (!isOk(attempt)) await recordFailureSafely(ctx, m, attempt);
  return results.length;
}

export type Delivered = { m: MessageRow; attempt: Attempt };
export const isOk = (a: Attempt) => a.status !== null && a.status >= 200 && a.status < 300;

/** Successful attempts recorded together: two statements however many there are, then callbacks. */
export async function recordDelivered(ctx: EmulatorContext, delivered: Delivered[]): Promise<void> {
  if (!delivered.length) return;
  const now = ctx.now();
  const marked = await markDelivered(
    ctx.db,
    delivered.map((r) => ({ messageId: r.m.messageId, status: r.attempt.status ?? 200 })),
    now,
  );
  const done = new Set(marked);
  const recorded = delivered.filter((r) => done.has(r.m.messageId));
  await addEvents(
    ctx.db,
    recorded.map(({ m, attempt }) => ({
      messageId: m.messageId,
      state: 'DELIVERED' as const,
      url: m.destination,
      time: now,
      responseStatus: attempt.status,
      scheduleId: m.scheduleId,
    })),
  );
  for (const { m, attempt } of recorded)
    if (m.callback) await publishCallback(ctx, m.callback, m, attempt);
}

export async function recordFailureSafely(
  ctx: EmulatorContext,
  m: MessageRow,
  attempt: Attempt,
): Promise<void> {
  try {
    await recordFailure(ctx, m, attempt);
  } catch (err) {
    ctx.log.error('qstash_emulator.delivery_error', { messageId: m.messageId, error: err });
  }
}

/** A failed attempt: retry later, or dead-letter it (guarded by the delivering state). */
async function recordFailure(
  ctx: EmulatorContext,
  m: MessageRow,
  attempt: Attempt,
): Promise<'retry' | 'failed'> {
  const now = ctx.now();
  const nonRetryable =
    attempt.status === 489 && attempt.headers.get('upstash-nonretryable-error') === 'true';
  const error = {
    messageId: m.messageId,
    state: 'ERROR' as const,
    url: m.destination,
    time: now,
    responseStatus: attempt.status,
    error: attempt.error,
    scheduleId: m.scheduleId,
  };
  if (!nonRetryable && m.retried < m.maxRetries) {
    const next = new Date(now.getTime() + retryDelay(ctx, m, attempt));
    const row = await finishAttempt(ctx.db, m.messageId, {
      status: 'pending',
      retried: m.retried + 1,
      nextAttemptAt: next,
      lastStatus: attempt.status,
      lastError: attempt.error,
    });
    if (row) {
      await addEvent(ctx.db, error);
      await addEvent(ctx.db, {
        messageId: m.messageId,
        state: 'RETRY',
        url: m.destination,
        time: now,
        nextDeliveryTime: next,
        scheduleId: m.scheduleId,
      });
      ctx.notify(next);
    }
    return 'retry';
  }
  const row = await finishAttempt(ctx.db, m.messageId, {
    status: 'failed',
    finishedAt: now,
    lastStatus: attempt.status,
    lastError: attempt.error,
  });
  if (!row) return 'failed';
  await addEvent(ctx.db, error);
  const dlqId = newDlqId(now);
  await insertDlq(ctx.db, {
    dlqId,
    messageId: m.messageId,
    message: { ...row, notBefore: row.notBefore.getTime(), createdAt: row.createdAt.getTime() },
    responseStatus: attempt.status,
    responseHeaders: headerRecord(attempt.headers),
    responseBody: attempt.body,
    createdAt: now,
  });
  await addEvent(ctx.db, {
    messageId: m.messageId,
    state: 'FAILED',
    url: m.destination,
    time: now,
    responseStatus: attempt.status,
    error: attempt.error,
    scheduleId: m.scheduleId,
  });
  if (m.callback) await publishCallback(ctx, m.callback, m, attempt);
  if (m.failureCallback) await publishCallback(ctx, m.failureCallback, m, attempt, { dlqId });
  ctx.log.warn('qstash_emulator.dead_letter', {
    messageId: m.messageId,
    url: m.destination,
    status: attempt.status,
    dlqId,
  });
  return 'failed';
}
