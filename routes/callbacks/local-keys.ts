import type { MiddlewareHandler } from 'hono';
import { IN_PROCESS_ENV } from '../../src/deps.ts';
import { isLoopback } from '../../src/lib/loopback.ts';
import type { AppEnv } from '../env.ts';
import { problemResponse } from '../problem.tsx';

/**
 * In embedded mode callbacks are verified with QStash's published local signing keys
 * (src/adapters/queue/local-credentials.ts), which anyone can sign with. So there:
 *
 * - when `HOST` is not a loopback address (the app listens to the network), a callback is
 *   taken only from the local emulator itself, which delivers in-process
 *   (`IN_PROCESS_ENV`); any callback from a socket is refused;
 * - any callback must be addressed to `PUBLIC_URL`'s host (its signature is bound to that
 *   URL anyway): a DNS-rebinding page on this machine sends its own name and is refused.
 *
 * Production (real QStash keys) is unaffected. Refusals: 403 problem `local-only`.
 */
export function refuseLocalKeysFromOutside(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { config } = c.get('deps');
    if (!config.qstash.emulated || c.env === IN_PROCESS_ENV) return next();
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    const listensLocally = isLoopback(config.host);
    if (listensLocally && host.toLowerCase() === new URL(config.publicUrl).host) return next();
    c.get('deps').log.warn('callback.local_keys_refused', {
      path: c.req.path,
      reason: listensLocally ? 'host' : 'network',
    });
    return problemResponse(c, {
      status: 403,
      code: 'local-only',
      title: 'Local clients only',
      detail: listensLocally
        ? `Callbacks signed with the local development keys must be addressed to ${new URL(config.publicUrl).host}.`
        : 'This app listens beyond loopback with the published local development keys: it takes callbacks only from its own emulator.',
    });
  };
}
