import type { MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  releaseIdempotencyKey,
} from '../../src/idempotency/keys.ts';
import { sha256Hex } from '../../src/lib/crypto.ts';
import type { AppEnv } from '../env.ts';
import { problemResponse } from '../problem.tsx';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** Set on an answer sent again for a retried key (Stripe's name for it). */
export const REPLAYED_HEADER = 'Idempotent-Replayed';
/**
 * A key: 1–255 visible ASCII characters other than `"` and `\` (a UUID, a ULID, base64url),
 * bare as Stripe takes it or as the draft's structured-field string (`"…"`, RFC 8941 §3.3.3).
 */
const KEY = /^[!#-[\]-~]{1,255}$/;
/** The answer's headers a replay repeats; the rest (X-Request-Id, …) are the new request's. */
const KEPT_HEADERS = ['content-type', 'location', 'etag', 'retry-after'];

/** The key from the header's value, or null when it has not the accepted shape. */
export function parseIdempotencyKey(value: string): string | null {
  const bare = value.length >= 2 && value.startsWith('"') && value.endsWith('"');
  const key = bare ? value.slice(1, -1) : value;
  return KEY.test(key) ? key : null;
}

/**
 * `Idempotency-Key` on a creating request (draft-ietf-httpapi-idempotency-key-header):
 * a request without the header runs as ever. With it, the key is claimed for the caller
 * (the API key, and the user a platform request acts for) before the handler runs:
 *
 * - first use: the handler runs and its answer is kept 24 h; a 5xx or a thrown error is not
 *   kept and the key is freed, so a retry runs again: a 500 comes before the work commits
 *   (verbs answer only after their transaction), a 502/503 is Fly or the controller refusing
 *   or unreachable, and in both a retry is what the client wants, not 24 h of the failure;
 * - the same key, method, path and body again: the first answer, status, body and headers,
 *   with `Idempotent-Replayed: true`; nothing runs;
 * - the same key with another body (or route): 422 problem `idempotency-key-reused`;
 * - the same key while its first request runs: 409 problem `idempotency-key-in-use`
 *   (`Retry-After: 1`);
 * - a key of another shape: 400 problem `invalid-idempotency-key`.
 *
 * Runs after authentication and before the body's validation, so a 400 for the body is the
 * key's first answer too (the draft keeps whatever was answered first).
 */
export function idempotency(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const raw = c.req.header(IDEMPOTENCY_HEADER);
    const apiKey = c.get('apiKey');
    if (raw === undefined || !apiKey) return next();
    const key = parseIdempotencyKey(raw.trim());
    if (!key)
      return problemResponse(c, {
        status: 400,
        code: 'invalid-idempotency-key',
        title: 'Invalid Idempotency-Key',
        detail:
          'Idempotency-Key must be 1 to 255 visible ASCII characters without `"` or `\\` (a UUID is best), bare or as a quoted string.',
      });
    const deps = c.get('deps');
    const method = c.req.method;
    const path = c.req.path;
    const body = new Uint8Array(await c.req.arrayBuffer());
    const prefix = new TextEncoder().encode(`${method} ${path}\n`);
    const bytes = new Uint8Array(prefix.length + body.length);
    bytes.set(prefix);
    bytes.set(body, prefix.length);
    const fingerprint = await sha256Hex(bytes);
    const scope = { apiKeyId: apiKey.id, userId: c.get('platformUser')?.userId ?? '', key };
    const claimed = await claimIdempotencyKey(deps, scope, { method, path, fingerprint });

    if (claimed.kind === 'replay') {
      const { status, headers, body: text } = claimed.response;
      return c.body(text, status as ContentfulStatusCode, {
        ...headers,
        [REPLAYED_HEADER]: 'true',
      });
    }
    if (claimed.kind === 'mismatch')
      return problemResponse(c, {
        status: 422,
        code: 'idempotency-key-reused',
        title: 'Idempotency-Key reused',
        detail:
          'This Idempotency-Key was sent with another request (method, path or body). Use a new key for a new request.',
      });
    if (claimed.kind === 'in-progress') {
      c.header('Retry-After', '1');
      return problemResponse(c, {
        status: 409,
        code: 'idempotency-key-in-use',
        title: 'Idempotency-Key in use',
        detail:
          'A request with this Idempotency-Key is still being processed. Retry shortly: the same key and body then answer with its result.',
      });
    }

    await next();
    const res = c.res;
    try {
      if (res.status >= 500) {
        await releaseIdempotencyKey(deps, claimed.claim);
        return;
      }
      const headers: Record<string, string> = {};
      for (const name of KEPT_HEADERS) {
        const value = res.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      await completeIdempotencyKey(deps, claimed.claim, {
        status: res.status,
        headers,
        body: await res.clone().text(),
      });
    } catch (err) {
      // The work is done and its answer goes out; only its replay is lost (a retry after
      // the lease would run again), so this is logged rather than turned into a 5xx.
      deps.log.warn('idempotency.store_failed', {
        requestId: c.get('requestId'),
        path,
        error: err,
      });
    }
  };
}
