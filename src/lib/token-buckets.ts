/** A token bucket's rule: `perSecond` tokens refill each second, up to `burst`. */
export type RateRule = { perSecond: number; burst: number };

type Bucket = { tokens: number; at: number };

/** Past this many keys, buckets idle for a minute (full again, so as good as absent) go. */
const MAX_KEYS = 10_000;

/**
 * In-memory token buckets keyed by any string (an action and its scope). `now` is epoch ms.
 * - `reserve` always takes a token, letting the balance go negative, and returns how many
 *   ms the caller must wait before acting: concurrent callers queue fairly.
 * - `tryTake` takes a token only if one is there, else returns the ms until one will be.
 */
export function createTokenBuckets(now: () => number) {
  const buckets = new Map<string, Bucket>();

  function refill(key: string, rule: RateRule): Bucket {
    const t = now();
    const bucket = buckets.get(key) ?? { tokens: rule.burst, at: t };
    bucket.tokens = Math.min(rule.burst, bucket.tokens + ((t - bucket.at) / 1000) * rule.perSecond);
    bucket.at = t;
    if (!buckets.has(key)) {
      if (buckets.size >= MAX_KEYS) prune(t);
      buckets.set(key, bucket);
    }
    return bucket;
  }

  function prune(t: number) {
    for (const [key, b] of buckets) {
      if (t - b.at > 60_000) buckets.delete(key);
    }
  }

  const msUntil = (tokens: number, rule: RateRule) =>
    Math.ceil(((1 - tokens) / rule.perSecond) * 1000);

  return {
    reserve(key: string, rule: RateRule): number {
      const bucket = refill(key, rule);
      bucket.tokens -= 1;
      return bucket.tokens >= 0 ? 0 : msUntil(bucket.tokens + 1, rule);
    },
    /** How many ms a `reserve` made now would have to wait, without taking anything. */
    waitFor(key: string, rule: RateRule): number {
      const bucket = refill(key, rule);
      return bucket.tokens >= 1 ? 0 : msUntil(bucket.tokens, rule);
    },
    tryTake(key: string, rule: RateRule): { ok: true } | { ok: false; retryAfterMs: number } {
      const bucket = refill(key, rule);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterMs: msUntil(bucket.tokens, rule) };
    },
  };
}

export type TokenBuckets = ReturnType<typeof createTokenBuckets>;
