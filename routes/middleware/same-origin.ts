import type { MiddlewareHandler } from 'hono';
import { ForbiddenError } from '../../src/lib/errors.ts';
import type { AppEnv } from '../env.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF protection for the console: every unsafe request (anything but GET, HEAD, OPTIONS),
 * whatever its Content-Type, must come from our own origin. A browser's
 * `Sec-Fetch-Site` decides when present (only `same-origin` passes; W3C Fetch Metadata);
 * otherwise `Origin` must be the public URL's origin or the request's own (RFC 6454).
 * Neither: {@link ForbiddenError} (403).
 *
 * Not `hono/csrf`: it checks only the content types an HTML form can send, so a
 * cross-origin `fetch` with `Content-Type: application/json` and the cookie got through.
 */
export function sameOriginOnly(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();
    const site = c.req.header('sec-fetch-site');
    const origin = c.req.header('origin');
    const ours = [new URL(c.get('deps').config.publicUrl).origin, new URL(c.req.url).origin];
    const allowed = site !== undefined ? site === 'same-origin' : ours.includes(origin ?? '');
    if (!allowed)
      throw new ForbiddenError(
        'Cross-site request refused: changes in the console must come from the console itself.',
      );
    return next();
  };
}
