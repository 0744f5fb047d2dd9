import { errorFromResponse, FlyApiError } from './errors.ts';
import { createRateLimiter } from './rate-limit.ts';

/** Options of {@link createFlyClient}; every time source is injectable for tests. */
export type FlyClientOptions = {
  /** API origin without `/v1`, e.g. `https://api.machines.dev` or `http://localhost:8787/__dev/fly`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token: string;
  fetch?: typeof fetch;
  /** Waits `ms` milliseconds (backoff, rate limiting). */
  sleep?: (ms: number) => Promise<void>;
  /** Epoch milliseconds. */
  now?: () => number;
  /** Uniform in [0, 1): jitter and request ids. */
  random?: () => number;
  /** Wait for Fly's published per-action limits before sending (default true). */
  rateLimit?: boolean;
  /**
   * Longest the client itself waits before sending, in ms (default 1,000): for its turn under
   * the rate limits, and for a 429's `Retry-After`. A longer wait is not slept through: the
   * call fails with a 429 {@link FlyApiError} whose `retryAfterMs` says when to come back, so
   * a callback hands its work back instead of holding its request open.
   */
  maxWaitMs?: number;
  /**
   * Each request is abandoned after this many ms without a complete answer (default 10,000);
   * a `wait` call gets its own `timeout` plus this. An abandoned mutation is ambiguous
   * (status 0, code `unavailable`), as a lost connection is.
   */
  timeoutMs?: number;
  /** `attempts` counts the first try (default 4); delays in ms (defaults 100 and 2,000). */
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
};

export type FlyCall = {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Under `/v1`, e.g. `/apps/my-app/machines`. */
  path: string;
  query?: URLSearchParams;
  body?: unknown;
  /** Lease nonce, sent as `fly-machine-lease-nonce`. */
  nonce?: string;
  /** Rate-limit action (`get_machine`, `create_machine`, …) and its scope (machine id or app). */
  action: string;
  scope: string;
  /** Extra ms this call may take beyond the client's timeout (a long-poll `wait`). */
  extraTimeoutMs?: number;
};

/**
 * Sends Machines API requests: auth, JSON, lease nonce, client-side rate limiting, error
 * mapping and retries.
 *
 * Retry policy (fly-go retries GETs and 502/503 the same way): a GET is retried on a network
 * error, 429 and 5xx, with exponential backoff and jitter, or after `Retry-After` when the
 * server sends one. Other methods are retried only on 429, which the API answers before
 * acting; a 5xx or a lost response to a mutation is ambiguous and goes back to the caller
 * (see `createMachine` for how creates recover from that). 408 is never retried here: wait
 * answers it when its own timeout passes. A request that times out (`timeoutMs`) is never
 * retried here either; it fails with status 0 and code `deadline_exceeded`.
 */
export function createTransport(options: FlyClientOptions) {
  const fetchFn = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const attempts = Math.max(1, options.retry?.attempts ?? 4);
  const baseDelayMs = options.retry?.baseDelayMs ?? 100;
  const maxDelayMs = options.retry?.maxDelayMs ?? 2_000;
  const maxWaitMs = options.maxWaitMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const limiter = options.rateLimit === false ? null : createRateLimiter({ now, sleep, maxWaitMs });
  const root = `${options.baseUrl.replace(/\/+$/, '')}/v1`;

  async function once(call: FlyCall, limitMs: number): Promise<unknown> {
    const turn = await limiter?.acquire(call.action, call.scope);
    if (turn && !turn.ok)
      throw new FlyApiError({
        status: 429,
        message: `rate limited: ${call.action} on ${call.scope} may be sent in ${turn.retryAfterMs} ms (Fly's published limits)`,
        retryAfterMs: turn.retryAfterMs,
      });
    const headers = new Headers({
      Authorization: `Bearer ${options.token}`,
      Accept: 'application/json',
    });
    if (call.body !== undefined) headers.set('Content-Type', 'application/json');
    if (call.nonce) headers.set('fly-machine-lease-nonce', call.nonce);
    const query = call.query?.toString();
    const signal = AbortSignal.timeout(Math.max(1, limitMs));
    let res: Response;
    let text: string;
    try {
      res = await fetchFn(`${root}${call.path}${query ? `?${query}` : ''}`, {
        method: call.method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal,
      });
      text = await res.text();
    } catch (cause) {
      const timedOut = signal.aborted;
      throw new FlyApiError({
        status: 0,
        code: timedOut ? 'deadline_exceeded' : 'unavailable',
        message: timedOut
          ? `no answer to ${call.method} ${call.path} within ${limitMs} ms`
          : `network error calling ${call.method} ${call.path}: ${String(cause)}`,
        cause,
      });
    }
    if (!res.ok) throw errorFromResponse(res.status, text, res.headers, now());
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }

  function retryable(call: FlyCall, error: FlyApiError): boolean {
    if (error.status === 429) return (error.retryAfterMs ?? 0) <= maxWaitMs;
    // A call that timed out is not sent again: that would hold the caller past its budget.
    if (error.code === 'deadline_exceeded') return false;
    return call.method === 'GET' && (error.status === 0 || error.status >= 500);
  }

  function delay(attempt: number, error: FlyApiError): number {
    if (error.retryAfterMs !== null) return error.retryAfterMs;
    const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
    // "Equal jitter": half fixed, half random, so retries spread out but still back off.
    return Math.round(exp / 2 + (random() * exp) / 2);
  }

  return {
    random,
    /** One call with retries; resolves to the parsed JSON body (undefined when empty). */
    /**
     * One call with retries; resolves to the parsed JSON body (undefined when empty). The
     * whole call, retries included, ends within the timeout (plus a `wait`'s own): a
     * caller can count on that when it holds a lease.
     */
    async send<T>(call: FlyCall): Promise<T> {
      const deadline = now() + timeoutMs + (call.extraTimeoutMs ?? 0);
      for (let attempt = 0; ; attempt++) {
        try {
          return (await once(call, deadline - now())) as T;
        } catch (error) {
          if (!(error instanceof FlyApiError)) throw error;
          if (attempt + 1 >= attempts || !retryable(call, error)) throw error;
          const wait = delay(attempt, error);
          if (now() + wait >= deadline) throw error;
          await sleep(wait);
        }
      }
    },
  };
}

export type Transport = ReturnType<typeof createTransport>;
