import type { ErrorResponse } from './types.ts';

/**
 * Error codes callers branch on. Newer Machines API error texts start with a gRPC-style
 * code (`not_found: machine not found`, `failed_precondition: …`); some bodies carry a
 * `status` instead (`{"error":"insufficient resources …","status":"insufficient_capacity"}`).
 */
export type FlyErrorCode =
  | 'not_found'
  | 'deadline_exceeded'
  | 'aborted'
  | 'invalid_argument'
  | 'unavailable'
  | 'failed_precondition'
  | 'already_exists'
  | 'unauthenticated'
  | 'permission_denied'
  | 'resource_exhausted'
  | 'internal'
  | 'insufficient_capacity'
  | 'volume_placement_capacity'
  | 'name_taken'
  | 'unknown';

const PREFIXES = new Set<string>([
  'not_found',
  'deadline_exceeded',
  'aborted',
  'invalid_argument',
  'unavailable',
  'failed_precondition',
  'already_exists',
  'unauthenticated',
  'permission_denied',
  'resource_exhausted',
  'internal',
]);

/** `status` values of ErrorResponse that name a cause (fly-go `flaps_error.go`). */
const BODY_STATUSES = new Set<string>([
  'insufficient_capacity',
  'volume_placement_capacity',
  'name_taken',
]);

/** When the text has no prefix (older API versions), the HTTP status still says something. */
const BY_HTTP: Record<number, FlyErrorCode> = {
  0: 'unavailable',
  400: 'invalid_argument',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  408: 'deadline_exceeded',
  409: 'aborted',
  412: 'failed_precondition',
  429: 'resource_exhausted',
  503: 'unavailable',
};

/**
 * A failed Machines API call. `status` is the HTTP status (0: no response, e.g. a network
 * error); `code` is, in order of precedence, a cause-naming body `status`
 * (`insufficient_capacity`), the gRPC-style prefix of the body's `error` text, the code the
 * HTTP status implies, else `unknown`. `retryAfterMs` comes from a `Retry-After` header.
 */
export class FlyApiError extends Error {
  readonly status: number;
  readonly code: FlyErrorCode;
  readonly body: unknown;
  readonly retryAfterMs: number | null;

  constructor(init: {
    status: number;
    code?: FlyErrorCode;
    message: string;
    body?: unknown;
    retryAfterMs?: number | null;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'FlyApiError';
    this.status = init.status;
    this.code = init.code ?? BY_HTTP[init.status] ?? 'unknown';
    this.body = init.body ?? null;
    this.retryAfterMs = init.retryAfterMs ?? null;
  }
}

/** True for a FlyApiError with the given HTTP status and, if given, code. */
export function isFlyError(error: unknown, status?: number, code?: FlyErrorCode): boolean {
  return (
    error instanceof FlyApiError &&
    (status === undefined || error.status === status) &&
    (code === undefined || error.code === code)
  );
}

/** Builds the error for a non-2xx response from its status, body text and headers. */
export function errorFromResponse(
  status: number,
  text: string,
  headers: Headers,
  nowMs: number,
): FlyApiError {
  let body: unknown = text;
  let message = text.trim() || `HTTP ${status}`;
  let code: FlyErrorCode | undefined;
  try {
    const parsed = JSON.parse(text) as ErrorResponse;
    body = parsed;
    // fly-go prefers `message` (the legacy lease envelope) over `error`.
    const said = typeof parsed.error === 'string' ? parsed.error : parsed.message;
    if (typeof said === 'string' && said) message = said;
    const prefix = /^([a-z_]+):/.exec(message)?.[1];
    if (prefix && PREFIXES.has(prefix)) code = prefix as FlyErrorCode;
    if (typeof parsed.status === 'string' && BODY_STATUSES.has(parsed.status))
      code = parsed.status as FlyErrorCode;
  } catch {
    // Not JSON (a proxy's HTML page, say): keep the raw text as the message.
  }
  return new FlyApiError({
    status,
    code,
    message,
    body,
    retryAfterMs: parseRetryAfter(headers.get('retry-after'), nowMs),
  });
}

/** `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3), in milliseconds. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}
