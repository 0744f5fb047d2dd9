import type { RequestLimiter } from '../../lib/request-limiter.ts';

/** One push message to one device (Expo's message fields). */
export type PushMessage = {
  /** An Expo push token, `ExponentPushToken[…]`. */
  to: string;
  title: string;
  body: string;
  data: Record<string, string>;
};

/**
 * What the push service said about one message: a ticket (its id, to read the receipt
 * later), or an error. `deviceNotRegistered`: the token is dead and should be forgotten.
 */
export type PushTicket =
  | { ok: true; ticketId: string }
  | {
      ok: false;
      permanent: boolean;
      reason: string;
      deviceNotRegistered: boolean;
      retryAfterMs: number | null;
    };

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
  /** Sends up to `maxBatch` messages; tickets in order. Never throws for the service's answer. */
  sendBatch(messages: PushMessage[]): Promise<PushTicket[]>;
  /** Receipts for tickets (Expo keeps them for 24 h); ids not known yet are absent. */
  getReceipts(ticketIds: string[]): Promise<Record<string, PushReceipt>>;
};
