import { parseDurationSeconds } from './durations.ts';
import { isValidRetryDelay } from './retry.ts';

/** How to deliver one message, read from the `Upstash-*` headers of a publish. */
export type PublishConfig = {
  method: string;
  /** Sent with each delivery: Content-Type plus each `Upstash-Forward-X` as `X`. */
  forward: Record<string, string>;
  delaySeconds: number;
  /** Unix seconds; wins over the delay. */
  notBefore: number | null;
  retries: number;
  retryDelayExpression: string | null;
  timeoutSeconds: number | null;
  callback: string | null;
  failureCallback: string | null;
  deduplicationId: string | null;
  contentBasedDeduplication: boolean;
};

const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']);
export const DEFAULT_RETRIES = 3;
const MAX_RETRIES = 20;

/** Lower-cased header map from a Headers object or a batch item's `headers`. */
export function headerMap(
  source: Headers | Record<string, string> | undefined,
): Map<string, string> {
  const map = new Map<string, string>();
  if (!source) return map;
  const entries = source instanceof Headers ? source.entries() : Object.entries(source);
  for (const [k, v] of entries) map.set(k.toLowerCase(), String(v));
  return map;
}

function isUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Reads a publish's configuration headers as QStash documents them (upstash/docs
 * `qstash/api/publish` and the openapi's publish parameters). Returns the first problem
 * as an error message for a 400 instead of guessing; callbacks must be on `origins`.
 */
export function parsePublishConfig(
  h: Map<string, string>,
  origins: readonly string[],
): { ok: true; config: PublishConfig } | { ok: false; error: string } {
  const method = (h.get('upstash-method') ?? 'POST').toUpperCase();
  if (!METHODS.has(method)) return { ok: false, error: `invalid Upstash-Method: ${method}` };
  const delayText = h.get('upstash-delay');
  const delaySeconds = delayText === undefined ? 0 : parseDurationSeconds(delayText);
  if (delaySeconds === null) return { ok: false, error: `invalid Upstash-Delay: ${delayText}` };
  const notBeforeText = h.get('upstash-not-before');
  const notBefore = notBeforeText === undefined ? null : Number(notBeforeText);
  if (notBefore !== null && (!Number.isInteger(notBefore) || notBefore < 0))
    return { ok: false, error: `invalid Upstash-Not-Before: ${notBeforeText} (unix seconds)` };
  const retriesText = h.get('upstash-retries');
  const retries = retriesText === undefined ? DEFAULT_RETRIES : Number(retriesText);
  if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES)
    return { ok: false, error: `invalid Upstash-Retries: ${retriesText} (0–${MAX_RETRIES})` };
  const retryDelayExpression = h.get('upstash-retry-delay') ?? null;
  if (retryDelayExpression !== null && !isValidRetryDelay(retryDelayExpression))
    return { ok: false, error: `invalid Upstash-Retry-Delay: ${retryDelayExpression}` };
  const timeoutText = h.get('upstash-timeout');
  const timeoutSeconds = timeoutText === undefined ? null : parseDurationSeconds(timeoutText);
  if (timeoutText !== undefined && !timeoutSeconds)
    return { ok: false, error: `invalid Upstash-Timeout: ${timeoutText}` };
  const callback = h.get('upstash-callback') ?? null;
  const badCallback =
    callback === null ? null : refuseDestination(origins, callback, 'Upstash-Callback');
  if (badCallback) return { ok: false, error: badCallback };
  const failureCallback = h.get('upstash-failure-callback') ?? null;
  const badFailureCallback =
    failureCallback === null
      ? null
      : refuseDestination(origins, failureCallback, 'Upstash-Failure-Callback');
  if (badFailureCallback) return { ok: false, error: badFailureCallback };
  const forward: Record<string, string> = {};
  for (const [k, v] of h) {
    if (k === 'content-type') forward[k] = v;
    else if (k.startsWith('upstash-forward-')) forward[k.slice('upstash-forward-'.length)] = v;
  }
  return {
    ok: true,
    config: {
      method,
      forward,
      delaySeconds,
      notBefore,
      retries,
      retryDelayExpression,
      timeoutSeconds,
      callback,
      failureCallback,
      deduplicationId: h.get('upstash-deduplication-id') ?? null,
      contentBasedDeduplication: h.get('upstash-content-based-deduplication') === 'true',
    },
  };
}

export { isUrl };

/**
 * Why the emulator refuses to deliver to `url` (named `what` in the message), or null when
 * it may. Only http(s) URLs on one of `origins` (the app's own `PUBLIC_URL` origin) are
 * allowed: the emulator's token is a published constant, so an open destination would let
 * anyone who can reach it make this process fetch any URL.
 */
export function refuseDestination(
  origins: readonly string[],
  url: string,
  what = 'destination',
): string | null {
  if (!isUrl(url)) return `invalid ${what}: ${url}; the emulator delivers to http(s) URLs only`;
  if (origins.includes(new URL(url).origin)) return null;
  return `${what} ${url} refused: the local emulator delivers only to the app's own origin (${origins.join(', ')}, from PUBLIC_URL)`;
}
