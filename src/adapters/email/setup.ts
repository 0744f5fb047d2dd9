import type { Config } from '../../config.ts';
import { createRequestLimiter } from '../../lib/request-limiter.ts';
import type { Mailer } from './mailer.ts';
import { createResendMailer } from './resend.ts';

/** The email limiter for the configured rate (a burst of one second's worth). */
export function emailLimiter(config: Config, maxWaitMs = config.work.stepBudgetMs) {
  const perSecond = config.notices.emailRequestsPerSecond;
  return createRequestLimiter({ rate: { perSecond, burst: Math.max(1, perSecond) }, maxWaitMs });
}

/**
 * The configured mailer: Resend, or (production without `RESEND_API_KEY`) one that fails
 * every message permanently saying so. The outbox stand-in is built by src/dev-servers.
 */
export function setupMailer(config: Config, outbox: Mailer | null): Mailer {
  const email = config.notices.email;
  if (email.kind === 'resend')
    return createResendMailer({
      apiKey: email.apiKey,
      from: email.from,
      ...(email.baseUrl ? { baseUrl: email.baseUrl } : {}),
      limiter: emailLimiter(config),
    });
  if (email.kind === 'outbox' && outbox) return outbox;
  return {
    maxBatch: 100,
    limiter: emailLimiter(config),
    async sendBatch(messages) {
      return new Map(
        messages.map((m) => [
          m.id,
          {
            status: 'refused' as const,
            permanent: true,
            reason: 'email is not configured (set RESEND_API_KEY and EMAIL_FROM)',
            retryAfterMs: null,
          },
        ]),
      );
    },
  };
}
