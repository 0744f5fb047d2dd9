import type { MiddlewareHandler } from 'hono';
import { USER_TOKEN_PREFIX, verifyUserToken } from '../../src/auth/user-tokens.ts';
import { AppError } from '../../src/lib/errors.ts';
import type { AppEnv } from '../env.ts';
import { problemResponse } from '../problem.tsx';
import { requireApiKey } from './bearer.ts';

/** The header that names the user a platform-key request acts for. */
export const USER_HEADER = 'Fleetwarden-User';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Authenticates `/api/platform/*` and says which user the request acts for
 * (`c.var.platformUser`):
 *
 * - `Authorization: Bearer fwu_…`, a user token (src/auth/user-tokens.ts): that user, and
 *   the key that minted it as the actor. An invalid, expired or revoked one is a 401.
 * - `Authorization: Bearer fwp_…`, a platform key: the user named by the
 *   `Fleetwarden-User: <user id>` header, or none (null; routes under `/users/{userId}`
 *   take the path's). A header that is not a UUID is a 400 `invalid-user`.
 */
export function requirePlatformCaller(): MiddlewareHandler<AppEnv> {
  const platformKey = requireApiKey('platform');
  return async (c, next) => {
    const named = c.req.header(USER_HEADER);
    const bearer = /^Bearer +(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (bearer?.startsWith(USER_TOKEN_PREFIX)) {
      const caller = await verifyUserToken(c.get('deps'), bearer);
      if (!caller) {
        c.header('WWW-Authenticate', 'Bearer realm="fleetwarden", error="invalid_token"');
        return problemResponse(c, {
          status: 401,
          code: 'unauthenticated',
          title: 'Authentication required',
          detail: 'The user token is not valid: it expired, was revoked or altered.',
        });
      }
      if (named !== undefined && named.toLowerCase() !== caller.userId.toLowerCase())
        throw invalidUser('A user token acts for its own user; leave out Fleetwarden-User.');
      c.set('apiKey', caller.apiKey);
      c.set('platformUser', { userId: caller.userId, via: 'token' });
      return next();
    }
    return platformKey(c, async () => {
      if (named !== undefined && !UUID.test(named))
        throw invalidUser('Fleetwarden-User must be a user id (a UUID).');
      c.set('platformUser', named ? { userId: named.toLowerCase(), via: 'key' } : null);
      await next();
    });
  };
}

const invalidUser = (detail: string) => new AppError(400, 'invalid-user', 'Invalid user', detail);
