import type { Context, MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { type ApiKeyKind, verifyApiKey } from '../../src/auth/api-keys.ts';
import type { AppEnv } from '../env.ts';
import { problemResponse } from '../problem.tsx';

const WHAT: Record<ApiKeyKind, string> = {
  admin: 'an admin API token (fwa_…)',
  platform: 'a platform API key (fwp_…)',
};

/**
 * Bearer authentication for `/api/admin/*` (admin tokens) and `/api/platform/*` (platform
 * keys), RFC 6750. Tokens are looked up by prefix and compared by hash in constant time;
 * a revoked key fails on the very next request. 401 problems carry `WWW-Authenticate`.
 */
export function requireApiKey(kind: ApiKeyKind): MiddlewareHandler<AppEnv> {
  const unauthenticated = (detail: string) => (c: Context<AppEnv>) =>
    problemResponse(c, {
      status: 401,
      code: 'unauthenticated',
      title: 'Authentication required',
      detail,
    });
  return bearerAuth({
    realm: 'fleetwarden',
    verifyToken: async (token, raw) => {
      const c = raw as unknown as Context<AppEnv>;
      const deps = c.get('deps');
      const key = await verifyApiKey(deps.db, kind, token, deps.clock.now());
      if (key) c.set('apiKey', key);
      return key !== null;
    },
    noAuthenticationHeader: {
      message: unauthenticated(`Send ${WHAT[kind]} as "Authorization: Bearer <token>".`),
    },
    invalidAuthenticationHeader: {
      message: (c: Context<AppEnv>) =>
        problemResponse(c, {
          status: 400,
          code: 'invalid-authorization-header',
          title: 'Invalid Authorization header',
          detail: 'Use "Authorization: Bearer <token>".',
        }),
    },
    invalidToken: {
      message: unauthenticated(`The token is not ${WHAT[kind]}, or it was revoked.`),
    },
  }) as unknown as MiddlewareHandler<AppEnv>;
}
