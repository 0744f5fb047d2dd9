import { Resend } from 'resend';
import { parseRetryAfter } from '../../lib/backoff.ts';
import type { RequestLimiter } from '../../lib/request-limiter.ts';
import type { EmailMessage, Mailer, SendOutcome } from './mailer.ts';

/** Resend's batch endpoint takes at most 100 emails (resend.com/docs/api-reference/emails/send-batch-emails). */
export const RESEND_MAX_BATCH = 100;

/**
 * Errors that say the request was not carried out and may be later: rate limits and quotas
 * (429). Every other 4xx (`validation_error`, `invalid_from_address`, …) is permanent
 * (resend.com/docs/api-reference/errors).
 */
const NOT_YET = new Set(['rate_limit_exceeded', 'daily_quota_exceeded', 'monthly_quota_exceeded']);

/**
 * Errors after which we cannot know whether the emails went: Resend's own failures (5xx may
 * follow the effect) and another request under the same key still in flight (409
 * `concurrent_idempotent_requests`). Resolved by sending the same request again.
 */
const UNKNOWN = new Set([
  'concurrent_idempotent_requests',
  'application_error',
  'internal_server_error',
]);

/**
 * Email through Resend with the official `resend` SDK (it uses only `fetch`, so it runs on
 * Node, Deno and edge runtimes; docs/adr/0009): `POST /emails/batch` with
 * `Idempotency-Key` (Resend keeps a key 24 h and answers a repeat with the first result)
 * and `x-batch-validation: permissive`, so one bad address fails only its own message.
 */
export function createResendMailer(options: {
  apiKey: string;
  from: string;
  /** Default `https://api.resend.com`; tests point it at a local fake. */
  baseUrl?: string;
  limiter: RequestLimiter;
  timeoutMs?: number;
  now?: () => Date;
}): Mailer {
  const client = new Resend(options.apiKey, {
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
  });
  const now = options.now ?? (() => new Date());
  const all = (messages: EmailMessage[], outcome: SendOutcome) =>
    new Map(messages.map((m) => [m.id, outcome]));
  return {
    maxBatch: RESEND_MAX_BATCH,
    limiter: options.limiter,
    async sendBatch(messages, { idempotencyKey }) {
      let res: Awaited<ReturnType<typeof client.batch.send<{ batchValidation: 'permissive' }>>>;
      try {
        res = await client.batch.send(
          messages.map((m) => ({
            from: options.from,
            to: [m.to],
            subject: m.subject,
            text: m.text,
            html: m.html,
            tags: Object.entries(m.tags).map(([name, value]) => ({ name, value })),
          })),
          {
            idempotencyKey,
            batchValidation: 'permissive',
            signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
          } as never,
        );
      } catch (err) {
        // A timeout or a lost connection: Resend may have sent them.
        return all(messages, {
          status: 'unknown',
          reason: `email request's answer unknown: ${err instanceof Error ? err.message : String(err)}`,
          retryAfterMs: null,
        });
      }
      if (res.error) {
        const retryAfterMs = parseRetryAfter(res.headers?.['retry-after'], now());
        const { name, statusCode } = res.error;
        const reason = `Resend ${statusCode ?? 'network'} ${name}: ${res.error.message}`;
        // Resend has already sent a request under this key (it keeps keys 24 h): this one
        // differs from it (re-rendered), but the batch (the same members) went.
        if (name === 'invalid_idempotent_request')
          return all(messages, { status: 'sent', providerMessageId: null });
        if (UNKNOWN.has(name) || statusCode === null || (statusCode ?? 0) >= 500)
          return all(messages, {
            status: 'unknown',
            reason: `answer unknown: ${reason}`,
            retryAfterMs,
          });
        return all(messages, {
          status: 'refused',
          permanent: !NOT_YET.has(name) && statusCode !== 429,
          reason,
          retryAfterMs,
        });
      }
      // Resend answers in the request's order: `errors` by index, `data` the accepted ones in
      // order. Matched to our ids here, against the request we built; an answer that does
      // not account for every message is not trusted (unknown: sent again under the key).
      const failed = new Map((res.data.errors ?? []).map((e) => [e.index, e.message]));
      const ids = [...res.data.data];
      if (ids.length + failed.size !== messages.length)
        return all(messages, {
          status: 'unknown',
          reason: `Resend answered ${ids.length} ids and ${failed.size} errors for ${messages.length} emails`,
          retryAfterMs: null,
        });
      const out = new Map<string, SendOutcome>();
      messages.forEach((m, i) => {
        const error = failed.get(i);
        if (error !== undefined)
          out.set(m.id, {
            status: 'refused',
            permanent: true,
            reason: `Resend: ${error}`,
            retryAfterMs: null,
          });
        else out.set(m.id, { status: 'sent', providerMessageId: ids.shift()?.id ?? null });
      });
      return out;
    },
  };
}
