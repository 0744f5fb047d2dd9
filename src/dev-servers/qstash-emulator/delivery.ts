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

export type Delivered = { m: MessageRow; attempt: Attempt };
export const isOk = (a: Attempt) => a.status !== null && a.status >= 200 && a.status < 300;

/**
 * Records successful attempts (guarded by the `delivering` state, so a late duplicate
 * changes nothing): the state and the DELIVERED events in one transaction for the whole
 * batch, then each message's callback. Never throws: if the batch cannot be written, each
 * message is tried on its own, and whatever still fails is logged with its message id
 * (its lock expires and it is delivered again, as QStash's at-least-once delivery allows).
 * Source: upstash/docs `qstash/features/callbacks.mdx`.
 */
export async function recordDelivered(ctx: EmulatorContext, delivered: Delivered[]): Promise<void> {
  if (!delivered.length) return;
  try {
    await recordTogether(ctx, delivered);
    return;
  } catch (err) {
    if (delivered.length === 1) {
      ctx.log.error('qstash_emulator.record_error', {
        messageId: delivered[0]?.m.messageId,
        error: err,
      });
      return;
    }
    ctx.log.warn('qstash_emulator.record_batch_failed', { count: delivered.length, error: err });
  }
  for (const one of delivered) await recordDelivered(ctx, [one]);
}

async function recordTogether(ctx: EmulatorContext, delivered: Delivered[]): Promise<void> {
  const now = ctx.now();
  const recorded = await ctx.db.transaction(async (tx) => {
    const marked = new Set(
      await markDelivered(
        tx,
        delivered.map((r) => ({ messageId: r.m.messageId, status: r.attempt.status ?? 200 })),
        now,
      ),
    );
    const done = delivered.filter((r) => marked.has(r.m.messageId));
    await addEvents(
      tx,
      done.map(({ m, attempt }) => ({
        messageId: m.messageId,
        state: 'DELIVERED' as const,
        url: m.destination,
        time: now,
        responseStatus: attempt.status,
        scheduleId: m.scheduleId,
      })),
    );
    return done;
  });
  for (const { m, attempt } of recorded) {
    if (!m.callback) continue;
    try {
      await publishCallback(ctx, m.callback, m, attempt);
    } catch (err) {
      ctx.log.error('qstash_emulator.callback_error', { messageId: m.messageId, error: err });
    }
  }
}

/** Records a failed attempt (retry or dead-letter); never throws, logging what it could not write. */
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

/**
 * A failed attempt, guarded by the `delivering` state: 489 with
 * `Upstash-NonRetryable-Error: true`, or the last retry failing, moves the message to the
 * DLQ and calls the failure callback; anything else schedules a retry.
 * Source: upstash/docs `qstash/features/retry.mdx`, `dlq.mdx`, `callbacks.mdx`.
 */
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
