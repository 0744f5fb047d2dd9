import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { PayloadTooLargeError } from '../../src/lib/errors.ts';
import type { AppEnv } from '../env.ts';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/**
 * Refuses a request body over `maxBytes` before it is buffered (hono/body-limit: at once
 * from Content-Length, or while streaming a chunked body), so an unauthenticated client
 * cannot make us hold a large body in memory. Over the limit: {@link PayloadTooLargeError},
 * which the error handler renders as a 413 problem (JSON) or error page (console).
 */
export function limitBody(maxBytes: number): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new PayloadTooLargeError(maxBytes);
    },
  }) as MiddlewareHandler<AppEnv>;
}
