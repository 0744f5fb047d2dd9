import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';

/**
 * `Cache-Control: no-store` on every answer that has none (RFC 9111 §5.2.2.5), for the
 * console and the API: their pages and JSON carry account data and one-time secrets that
 * no browser or shared cache may keep. A handler that sets its own Cache-Control keeps it.
 */
export function noStore(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store');
  };
}
