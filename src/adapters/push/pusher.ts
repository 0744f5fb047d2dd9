import type { RequestLimiter } from '../../lib/request-limiter.ts';

/** One push message to one device (Expo's message fields). */
export type PushMessage = {
  /** The caller's id of this message: tickets are keyed by it, never by position. */
  id: string;
  /** An Expo push token, `ExponentPushToken[…]`. */
  to: string;
  title: string;
  body: string;
  data: Record<string, string>;
};

/**
 * What the push service said about one message — done, not done, or unknown: a ticket (its
 * id, to read the receipt later); a refusal (`deviceNotRegistered`: the token is dead and
 * should be forgotten; `permanent`: sending again cannot succeed); or `unknown` (timeout,
 * lost connection, 5xx: it may have been pushed; Expo has no idempotency key, so sending
 * it again may repeat it).
 */
export type PushTicket =
  | { status: 'sent'; ticketId: string }
  | {
      status: 'refused';
      permanent: boolean;
      reason: string;
      deviceNotRegistered: boolean;
      retryAfterMs: number | null;
    }
  | { status: 'unknown'; reason: string; retryAfterMs: number | null };

/** A receipt: delivered to Apple's or Google's service, or an error for that message. */
export type PushReceipt =
  | { ok: true }
  | { ok: false; reason: string; deviceNotRegistered: boolean };

/** A push provider. Knows nothing of notices. */
export type Pusher = {
  /** Messages per request (Expo: 100). */
  maxBatch: number;
  /** The service's request rate; the sender takes a turn before each request. */
  limiter: RequestLimiter;
  /** Sends up to `maxBatch` messages; tickets by message id. Never throws for the service's answer. */
  sendBatch(messages: PushMessage[]): Promise<Map<string, PushTicket>>;
  /** Receipts for tickets (Expo keeps them for 24 h); ids not known yet are absent. */
  getReceipts(ticketIds: string[]): Promise<Record<string, PushReceipt>>;
};
