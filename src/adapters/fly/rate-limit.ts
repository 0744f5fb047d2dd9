/**
 * Token buckets for the Machines API's published limits (docs: machines/api/
 * working-with-machines-api, "Rate limits"): each action is limited per machine (or per app
 * for app-scoped actions such as create) to 1 request/s with a burst of 3; `get_machine` to
 * 5/s with a burst of 10. Both the client (to wait instead of failing) and the simulator (to
 * answer 429) use this module, so they agree on the numbers.
 */
export type RateRule = { perSecond: number; burst: number };

export const DEFAULT_RULE: RateRule = { perSecond: 1, burst: 3 };

/** Actions whose limit differs from the default. */
export const RATE_RULES: Record<string, RateRule> = {
  get_machine: { perSecond: 5, burst: 10 },
};

/** The limit for an action name (`start_machine`, `get_machine`, …). */
export function ruleFor(action: string): RateRule {
  return RATE_RULES[action] ?? DEFAULT_RULE;
}

type Bucket = { tokens: number; at: number };

/** Past this many keys, buckets idle for a minute (full again, so as good as absent) go. */
const MAX_KEYS = 10_000;

/**
 * In-memory token buckets keyed by `${action}:${machineId|appName}`. `now` is epoch ms.
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

/**
 * A limiter that makes the caller wait for its turn (via the injected `sleep`, ms) instead
 * of letting the API answer 429, but never longer than `maxWaitMs`: a turn further away is
 * not waited for (a callback must not sleep past its budget). Then `acquire` takes nothing
 * and resolves `{ ok: false, retryAfterMs }`, so the caller can hand the work back and come
 * back at that time.
 */
export function createRateLimiter(options: {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Longest wait for a turn, in ms (default: unbounded). */
  maxWaitMs?: number;
}) {
  const buckets = createTokenBuckets(options.now);
  const maxWaitMs = options.maxWaitMs ?? Number.POSITIVE_INFINITY;
  return {
    /** Waits until `action` on `scope` (machine id or app name) may be sent, or says when it may. */
    async acquire(
      action: string,
      scope: string,
    ): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> {
      const key = `${action}:${scope}`;
      const rule = ruleFor(action);
      const ahead = buckets.waitFor(key, rule);
      if (ahead > maxWaitMs) return { ok: false, retryAfterMs: ahead };
      const wait = buckets.reserve(key, rule);
      if (wait > 0) await options.sleep(wait);
      return { ok: true };
    },
  };
}
