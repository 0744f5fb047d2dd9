/**
 * Token buckets for the Machines API's published limits (docs: machines/api/
 * working-with-machines-api, "Rate limits"): each action is limited per machine (or per app
 * for app-scoped actions such as create) to 1 request/s with a burst of 3; `get_machine` to
 * 5/s with a burst of 10. Both the client (to wait instead of failing) and the simulator (to
 * answer 429) use this module, so they agree on the numbers.
 */
import { createTokenBuckets, type RateRule } from '../../lib/token-buckets.ts';

export type { RateRule };

export const DEFAULT_RULE: RateRule = { perSecond: 1, burst: 3 };

/** Actions whose limit differs from the default. */
export const RATE_RULES: Record<string, RateRule> = {
  get_machine: { perSecond: 5, burst: 10 },
};

/** The limit for an action name (`start_machine`, `get_machine`, …). */
export function ruleFor(action: string): RateRule {
  return RATE_RULES[action] ?? DEFAULT_RULE;
}

export { createTokenBuckets, type TokenBuckets } from '../../lib/token-buckets.ts';

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
