import { sign, verify } from 'hono/jwt';
import type { Deps } from '../deps.ts';
import { userTokenVersion } from '../fleet/users.ts';
import { NotFoundError } from '../lib/errors.ts';
import { type ApiKey, liveApiKey } from './api-keys.ts';

/**
 * Platform user tokens: short-lived bearer tokens for one user, minted with a platform API
 * key so the product's apps can call the platform API directly for that user (the model:
 * Stripe's ephemeral keys, Knock's user tokens). A token is `fwu_` + a JWT (RFC 7519)
 * signed with HMAC-SHA-256 (hono/jwt, Web Crypto) under `USER_TOKEN_SECRET` (or a key
 * derived from the session secret with HKDF when unset), with claims `sub` (user id),
 * `aud` {@link AUDIENCE}, `kid` (the minting key's id), `ver` (the user's token version),
 * `iat` and `exp` (Unix seconds).
 *
 * A token stops working when it expires, when `USER_TOKEN_SECRET` changes (all tokens),
 * when the user's token version is raised (`revokeUserTokens`: that user's tokens), when
 * the minting key is revoked, or when the user is erased.
 */
export const USER_TOKEN_PREFIX = 'fwu_';
const AUDIENCE = 'fleetwarden:platform-user';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Lifetime bounds in seconds: 15 minutes by default, 1 minute to 1 hour. */
export const USER_TOKEN_TTL = { defaultSeconds: 15 * 60, minSeconds: 60, maxSeconds: 60 * 60 };

export type UserTokenCaller = { userId: string; apiKey: ApiKey; expiresAt: Date };

const derived = new Map<string, Promise<string>>();

/** The HMAC key: `USER_TOKEN_SECRET`, else HKDF-SHA-256(session secret, info) as hex. */
function signingKey(deps: Pick<Deps, 'config' | 'security'>): Promise<string> {
  if (deps.config.userTokenSecret) return Promise.resolve(deps.config.userTokenSecret);
  const base = deps.security.sessionSecret;
  let key = derived.get(base);
  if (!key) {
    key = (async () => {
      const material = await crypto.subtle.importKey(
        'raw',
        new TextEncoder().encode(base),
        'HKDF',
        false,
        ['deriveBits'],
      );
      const bits = await crypto.subtle.deriveBits(
        {
          name: 'HKDF',
          hash: 'SHA-256',
          salt: new Uint8Array(0),
          info: new TextEncoder().encode('fleetwarden user tokens v1'),
        },
        material,
        256,
      );
      return Array.from(new Uint8Array(bits), (b) => b.toString(16).padStart(2, '0')).join('');
    })();
    derived.set(base, key);
  }
  return key;
}

/**
 * Mints a token for `userId` with the calling platform key, valid `ttlSeconds` from now
 * (the app clock). Throws NotFoundError for an unknown or erased user.
 */
export async function mintUserToken(
  deps: Pick<Deps, 'db' | 'clock' | 'config' | 'security'>,
  input: { userId: string; apiKey: ApiKey; ttlSeconds: number },
): Promise<{ token: string; expiresAt: Date }> {
  const version = await userTokenVersion(deps.db, input.userId);
  if (version === null) throw new NotFoundError('User', input.userId);
  const iat = Math.floor(deps.clock.now().getTime() / 1000);
  const exp = iat + input.ttlSeconds;
  const jwt = await sign(
    { sub: input.userId, aud: AUDIENCE, kid: input.apiKey.id, ver: version, iat, exp },
    await signingKey(deps),
    'HS256',
  );
  return { token: `${USER_TOKEN_PREFIX}${jwt}`, expiresAt: new Date(exp * 1000) };
}

/**
 * The caller a user token stands for, or null when it is not one of ours, altered,
 * expired (by the app clock), revoked (secret, user version, minting key) or for an
 * erased user. Never throws for a bad token.
 */
export async function verifyUserToken(
  deps: Pick<Deps, 'db' | 'clock' | 'config' | 'security'>,
  token: string,
): Promise<UserTokenCaller | null> {
  if (!token.startsWith(USER_TOKEN_PREFIX)) return null;
  let claims: Record<string, unknown>;
  try {
    // Times are checked below against the app clock, not the wall clock.
    claims = await verify(token.slice(USER_TOKEN_PREFIX.length), await signingKey(deps), {
      alg: 'HS256',
      aud: AUDIENCE,
      exp: false,
      nbf: false,
      iat: false,
    });
  } catch {
    return null;
  }
  const { sub, kid, ver, exp } = claims;
  if (typeof sub !== 'string' || !UUID.test(sub)) return null;
  if (typeof kid !== 'string' || !UUID.test(kid)) return null;
  if (typeof ver !== 'number' || typeof exp !== 'number') return null;
  if (exp * 1000 <= deps.clock.now().getTime()) return null;
  const [version, apiKey] = await Promise.all([
    userTokenVersion(deps.db, sub),
    liveApiKey(deps.db, 'platform', kid),
  ]);
  if (version !== ver || !apiKey) return null;
  return { userId: sub, apiKey, expiresAt: new Date(exp * 1000) };
}
