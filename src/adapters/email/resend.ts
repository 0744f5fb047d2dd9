import { Resend } from 'resend';
import { parseRetryAfter } from '../../lib/backoff.ts';
import type { RequestLimiter } from '../../lib/request-limiter.ts';
import type { EmailMessage, Mailer, SendOutcome } from './mailer.ts';

/** Resend's batch endpoint takes at most 100 emails (resend.com/docs/api-reference/emails/send-batch-emails). */
export const RESEND_MAX_BATCH = 100;

/**
 * Error names after which the same request can succeed later: rate limits and quotas
 * (429), concurrent use of one idempotency key (409), and Resend's own failures (5xx).
 * Every other error (`validation_error`, `invalid_from_address`, …) is permanent
 * (resend.com/docs/api-reference/errors).
 */
const TRANSIENT = new Set([
  'rate_limit_exceeded',
  'daily_quota_exceeded',
  'monthly_quota_exceeded',
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
  const all = (messages: EmailMessage[], outcome: SendOutcome) => messages.map(() => outcome);
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
        return all(messages, {
          ok: false,
          permanent: false,
          reason: `email request failed: ${err instanceof Error ? err.message : String(err)}`,
          retryAfterMs: null,
        });
      }
      if (res.error) {
        const retryAfterMs = parseRetryAfter(res.headers?.['retry-after'], now());
        const transient =
          TRANSIENT.has(res.error.name) ||
          res.error.statusCode === null ||
          (res.error.statusCode ?? 0) >= 500;
        return all(messages, {
          ok: false,
          permanent: !transient,
          reason: `Resend ${res.error.statusCode ?? 'network'} ${res.error.name}: ${res.error.message}`,
          retryAfterMs,
        });
      }
      const failed = new Map((res.data.errors ?? []).map((e) => [e.index, e.message]));
      const ids = [...res.data.data];
      return messages.map((_, i): SendOutcome => {
        const error = failed.get(i);
        if (error !== undefined)
          return { ok: false, permanent: true, reason: `Resend: ${error}`, retryAfterMs: null };
        const id = ids.shift();
        return id
          ? { ok: true, providerMessageId: id.id }
          : { ok: false, permanent: false, reason: 'Resend returned no id', retryAfterMs: null };
      });
    },
  };
}
