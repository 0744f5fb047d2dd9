import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../src/lib/log.ts';
import type { AppEnv } from '../env.ts';

/**
 * One `http.request` line per request: request id (and the client's, when kept), method, path (never the query string,
 * which may carry cursors or tokens), status and duration in milliseconds.
 */
export function requestLog(log: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    log.info('http.request', {
      requestId: c.get('requestId'),
      ...(c.get('clientRequestId') ? { clientRequestId: c.get('clientRequestId') } : {}),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
  };
}
