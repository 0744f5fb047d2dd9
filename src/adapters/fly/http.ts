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
};

/** Retry-After beyond this is not waited out here: the caller gets the 429. */
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Sends Machines API requests: auth, JSON, lease nonce, client-side rate limiting, error
 * mapping and retries.
 *
 * Retry policy (fly-go retries GETs and 502/503 the same way): a GET is retried on a network
 * error, 429 and 5xx, with exponential backoff and jitter, or after `Retry-After` when the
 * server sends one. Other methods are retried only on 429, which the API answers before
 * acting; a 5xx or a lost response to a mutation is ambiguous and goes back to the caller
 * (see `createMachine` for how creates recover from that). 408 is never retried here: wait
 * answers it when its own timeout passes.
 */
export function createTransport(options: FlyClientOptions) {
  const fetchFn = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const attempts = Math.max(1, options.retry?.attempts ?? 4);
  const baseDelayMs = options.retry?.baseDelayMs ?? 100;
  const maxDelayMs = options.retry?.maxDelayMs ?? 2_000;
  const limiter = options.rateLimit === false ? null : createRateLimiter({ now, sleep });
  const root = `${options.baseUrl.replace(/\/+$/, '')}/v1`;

  async function once(call: FlyCall): Promise<unknown> {
    await limiter?.acquire(call.action, call.scope);
    const headers = new Headers({
      Authorization: `Bearer ${options.token}`,
      Accept: 'application/json',
    });
    if (call.body !== undefined) headers.set('Content-Type', 'application/json');
    if (call.nonce) headers.set('fly-machine-lease-nonce', call.nonce);
    const query = call.query?.toString();
    let res: Response;
    try {
      res = await fetchFn(`${root}${call.path}${query ? `?${query}` : ''}`, {
        method: call.method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
      });
    } catch (cause) {
      throw new FlyApiError({
        status: 0,
        code: 'unavailable',
        message: `network error calling ${call.method} ${call.path}: ${String(cause)}`,
        cause,
      });
    }
    const text = await res.text();
    if (!res.ok) throw errorFromResponse(res.status, text, res.headers, now());
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }

  function retryable(call: FlyCall, error: FlyApiError): boolean {
    if (error.status === 429) return (error.retryAfterMs ?? 0) <= MAX_RETRY_AFTER_MS;
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
    async send<T>(call: FlyCall): Promise<T> {
      for (let attempt = 0; ; attempt++) {
        try {
          return (await once(call)) as T;
        } catch (error) {
          if (!(error instanceof FlyApiError)) throw error;
          if (attempt + 1 >= attempts || !retryable(call, error)) throw error;
          await sleep(delay(attempt, error));
        }
      }
    },
  };
}

export type Transport = ReturnType<typeof createTransport>;
