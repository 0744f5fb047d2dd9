import type { MiddlewareHandler } from 'hono';
import { IN_PROCESS_ENV } from '../../src/deps.ts';
import { isLoopback, isLoopbackHost } from '../../src/lib/loopback.ts';
import type { AppEnv } from '../env.ts';
import { problemResponse } from '../problem.tsx';

/** The ports this app is reached at on this machine: `PORT` and `PUBLIC_URL`'s. */
export function localPorts(config: { port: number; publicUrl: string }): number[] {
  const url = new URL(config.publicUrl);
  return [config.port, Number(url.port || (url.protocol === 'https:' ? 443 : 80))];
}

/**
 * Lets a request through only when it comes from this machine: the app calling itself
 * (`IN_PROCESS_ENV`), or a TCP peer on a loopback address whose `Host` is a loopback name
 * or address with our port (see {@link isLoopbackHost}: a DNS-rebinding page on this
 * machine connects from loopback but sends its own name). Guards `/__dev/*`, whose
 * credentials are published constants. The proxy header (`TRUST_PROXY_HEADER`) is never
 * consulted: a client can write any header, but not its socket's address. An unknown peer
 * (a runtime that does not report one) is refused. Otherwise: 403 problem `local-only`.
 */
export function localOnly(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const deps = c.get('deps');
    if (c.env === IN_PROCESS_ENV) return next();
    if (
      isLoopback(deps.peerAddress(c.env)) &&
      // The runtimes build the request URL from `Host`; `app.request` sends no header.
      isLoopbackHost(c.req.header('host') ?? new URL(c.req.url).host, localPorts(deps.config))
    )
      return next();
    return problemResponse(c, {
      status: 403,
      code: 'local-only',
      title: 'Local clients only',
      detail:
        'The local stand-ins under /__dev answer only clients on this machine that address it as localhost, 127.0.0.1 or [::1] on its port.',
    });
  };
}
