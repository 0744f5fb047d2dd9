import { createTokenBuckets } from './token-buckets.ts';

/** A provider's published request rate: `perSecond` requests, bursts up to `burst`. */
export type RequestRate = { perSecond: number; burst: number };

export type RequestLimiter = {
  /**
   * Waits for the next request's turn, or, when that is more than `maxWaitMs` away, takes
   * nothing and says when to come back (`retryAfterMs`), so a callback never sleeps past
   * its budget and hands the work to a later doorbell instead.
   */
  acquire(): Promise<{ ok: true } | { ok: false; retryAfterMs: number }>;
};

/**
 * A token bucket in front of one provider, so this process stays under its rate limit
 * instead of collecting 429s. Per process: several processes share the limit only through
 * the provider's own 429 and `Retry-After`, which the sender honours.
 */
export function createRequestLimiter(options: {
  rate: RequestRate;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  maxWaitMs?: number;
}): RequestLimiter {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const buckets = createTokenBuckets(now);
  const maxWaitMs = options.maxWaitMs ?? Number.POSITIVE_INFINITY;
  return {
    async acquire() {
      const ahead = buckets.waitFor('requests', options.rate);
      if (ahead > maxWaitMs) return { ok: false, retryAfterMs: ahead };
      const wait = buckets.reserve('requests', options.rate);
      if (wait > 0) await sleep(wait);
      return { ok: true };
    },
  };
}
