import type { MiddlewareHandler } from 'hono';
import { IN_PROCESS_ENV } from '../../src/deps.ts';
import { isLoopback } from '../../src/lib/loopback.ts';
import type { AppEnv } from '../env.ts';
import { problemResponse } from '../problem.tsx';

/**
 * Lets a request through only when it comes from this machine: the app calling itself
 * (`IN_PROCESS_ENV`) or a TCP peer on a loopback address. Guards `/__dev/*`, whose
 * credentials are published constants. The proxy header (`TRUST_PROXY_HEADER`) is never
 * consulted: a client can write any header, but not its socket's address. An unknown peer
 * (a runtime that does not report one) is refused. Otherwise: 403 problem `local-only`.
 */
export function localOnly(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.env === IN_PROCESS_ENV || isLoopback(c.get('deps').peerAddress(c.env))) return next();
    return problemResponse(c, {
      status: 403,
      code: 'local-only',
      title: 'Local clients only',
      detail: 'The local stand-ins under /__dev answer only clients on this machine.',
    });
  };
}
