import type { RequestLimiter } from '../../lib/request-limiter.ts';

/** One email: both parts, and tags the provider keeps with it (Resend `tags`). */
export type EmailMessage = {
  /** The caller's id of this message: outcomes are keyed by it, never by position. */
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Names and values of [A-Za-z0-9_-] only (Resend's rule for tags). */
  tags: Record<string, string>;
};

/**
 * What became of one message of a request — done, not done, or unknown:
 * - `sent`: the provider accepted it (`providerMessageId`: its id; null when the provider
 *   said only that it already had this request, e.g. Resend's 409 for a key it has sent).
 * - `refused`: it was not sent. `permanent`: sending it again cannot succeed (an invalid
 *   address); otherwise it may be retried, not before `retryAfterMs` when the provider said
 *   so. Nothing was sent, so a retry may go in another request under another key.
 * - `unknown`: the answer was lost (timeout, connection lost, a 5xx that may follow the
 *   effect, a malformed answer). The message may have been sent: it is resolved only by
 *   sending the same request again under the same idempotency key.
 */
export type SendOutcome =
  | { status: 'sent'; providerMessageId: string | null }
  | { status: 'refused'; permanent: boolean; reason: string; retryAfterMs: number | null }
  | { status: 'unknown'; reason: string; retryAfterMs: number | null };

/** An email provider. Knows nothing of notices: messages in, outcomes out. */
export type Mailer = {
  /** Messages one request may carry (Resend's batch endpoint: 100). */
  maxBatch: number;
  /** The provider's request rate; the sender takes a turn before each request. */
  limiter: RequestLimiter;
  /**
   * Sends up to `maxBatch` messages in one request; outcomes by message id (every id gets
   * one). The same request sent again under the same `idempotencyKey` (a retry after an
   * unknown outcome) must not send them twice. Never throws for a provider's answer or a
   * network failure: those are outcomes.
   */
  sendBatch(
    messages: EmailMessage[],
    options: { idempotencyKey: string },
  ): Promise<Map<string, SendOutcome>>;
};
