import type { RequestLimiter } from '../../lib/request-limiter.ts';

/** One email: both parts, and tags the provider keeps with it (Resend `tags`). */
export type EmailMessage = {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Names and values of [A-Za-z0-9_-] only (Resend's rule for tags). */
  tags: Record<string, string>;
};

/**
 * What became of one message of a request: accepted with the provider's id, or refused.
 * `permanent`: sending it again cannot succeed (an invalid address); otherwise it may be
 * retried, not before `retryAfterMs` when the provider said so.
 */
export type SendOutcome =
  | { ok: true; providerMessageId: string }
  | { ok: false; permanent: boolean; reason: string; retryAfterMs: number | null };

/** An email provider. Knows nothing of notices: messages in, outcomes out. */
export type Mailer = {
  /** Messages one request may carry (Resend's batch endpoint: 100). */
  maxBatch: number;
  /** The provider's request rate; the sender takes a turn before each request. */
  limiter: RequestLimiter;
  /**
   * Sends up to `maxBatch` messages in one request; outcomes in order. The same
   * `idempotencyKey` sent again (a retry after a crash) must not send them twice. Never
   * throws for a provider's answer or a network failure: those are outcomes.
   */
  sendBatch(messages: EmailMessage[], options: { idempotencyKey: string }): Promise<SendOutcome[]>;
};
