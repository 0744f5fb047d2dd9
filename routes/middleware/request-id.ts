import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';

/** The shape a client's `X-Request-Id` must have to be kept: a letter or digit, then up to
 * 127 letters, digits or `.`, `_`, `:`, `-` (UUIDs, ULIDs, W3C trace ids fit). */
export const CLIENT_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/**
 * Every request gets an id of ours (a random UUID) in `c.var.requestId` and the
 * `X-Request-Id` response header; it is what the log lines, problem bodies and audit rows
 * carry. A client's own `X-Request-Id` is never used as ours — a client could reuse another
 * request's id and make the audit log point at the wrong log lines — but when it has the
 * {@link CLIENT_REQUEST_ID} shape it is kept as `c.var.clientRequestId` and written to the
 * request's log line, so the two can be matched. Anything else is dropped.
 */
export function requestIds(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const ours = crypto.randomUUID();
    const theirs = c.req.header('X-Request-Id');
    c.set('requestId', ours);
    c.set('clientRequestId', theirs && CLIENT_REQUEST_ID.test(theirs) ? theirs : null);
    c.header('X-Request-Id', ours);
    await next();
  };
}
