/**
 * Delay before retry number `attempt` (1 = the first retry) of a failed provider call, in
 * ms: "full jitter" exponential backoff, a random delay in [0, min(capMs, baseMs · 2^(n−1))],
 * as described in AWS's Architecture Blog, "Exponential Backoff And Jitter" (Marc Brooker,
 * 2015) — jitter spreads the retries of many rows that failed together. When the provider
 * said when to come back (`retryAfterMs`, from `Retry-After`), that is the floor.
 *
 * A pure function of its inputs (`random` in [0, 1)): the retry is a row's
 * `next_attempt_at`, not a sleep, so the retrying libraries on npm (which wrap a call and
 * sleep in-process) do not fit; this is the one formula they share.
 */
export function retryDelayMs(
  attempt: number,
  options: { baseMs?: number; capMs?: number; retryAfterMs?: number | null; random?: number } = {},
): number {
  const base = options.baseMs ?? 5_000;
  const cap = options.capMs ?? 15 * 60_000;
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.floor((options.random ?? Math.random()) * ceiling);
  return Math.max(jittered, Math.min(options.retryAfterMs ?? 0, 24 * 3_600_000));
}

/**
 * A `Retry-After` header value in ms from `now` (RFC 9110 §10.2.3: delay-seconds or an
 * HTTP-date), or null when absent or unreadable. A date in the past is 0.
 */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}
