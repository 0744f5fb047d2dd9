import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';
import { problemResponse } from '../problem.tsx';

// Fatal: `Request.json()` would replace invalid bytes with U+FFFD and carry on, storing
// text the client never sent (WHATWG Encoding, "decode" with error mode "fatal").
const utf8 = new TextDecoder('utf-8', { fatal: true });
const JSON_TYPE = /^application\/([a-z0-9.+-]+\+)?json\b/i;

/**
 * Refuses a JSON request body that is not valid UTF-8 (RFC 8259 §8.1 requires it) with a
 * 400 problem `invalid-utf8`, before any validator parses it. The bytes stay cached on the
 * request, so the route's validator reads the same body. Other content types pass.
 */
export function requireUtf8Json(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!c.req.raw.body || !JSON_TYPE.test(c.req.header('content-type') ?? '')) return next();
    try {
      utf8.decode(await c.req.arrayBuffer());
    } catch {
      return problemResponse(c, {
        status: 400,
        code: 'invalid-utf8',
        title: 'Invalid UTF-8',
        detail: 'The JSON body is not valid UTF-8; send it encoded as UTF-8.',
        errors: [{ path: '(body)', message: 'not valid UTF-8' }],
      });
    }
    return next();
  };
}
