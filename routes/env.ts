import type { AdminView } from '../src/auth/admins.ts';
import type { ApiKey } from '../src/auth/api-keys.ts';
import type { Session } from '../src/auth/sessions.ts';
import type { Actor, Ctx, Deps } from '../src/deps.ts';
import type { AssetManifest } from './assets.ts';

/** Hono's environment for every route: what middleware puts on `c.var`. */
export type AppEnv = {
  Variables: {
    /** Ours, always (routes/middleware/request-id.ts). */
    requestId: string;
    /** The client's `X-Request-Id` when it has the accepted shape, for the log only. */
    clientRequestId: string | null;
    deps: Deps;
    /** Static asset URLs and files (fingerprinted at start-up). */
    assets: AssetManifest;
    /** Set by the admin-session middleware on console routes. */
    admin?: AdminView;
    session?: Session;
    /** Set by the bearer middleware on API routes. */
    apiKey?: ApiKey;
    /**
     * On /api/platform: the user the request acts for (a user token's, the
     * `Fleetwarden-User` header's, or the path's `userId`), null when none is named.
     */
    platformUser?: { userId: string; via: 'token' | 'key' } | null;
    /** Set by the QStash signature middleware on callback routes. */
    callback?: { body: unknown; messageId: string | null; retried: number };
    /** IANA zone the console renders times in. */
    timeZone?: string;
  };
};

type VarsContext = { get<K extends keyof AppEnv['Variables']>(key: K): AppEnv['Variables'][K] };

/**
 * The client's IP address: from the trusted proxy header when one is configured (its
 * first entry, for X-Forwarded-For), else the connection's peer address.
 */
export function clientIp(
  c: { env: unknown; req: { header(name: string): string | undefined } } & VarsContext,
): string | null {
  const deps = c.get('deps');
  const header = deps.config.trustProxyHeader;
  if (header) return c.req.header(header)?.split(',')[0]?.trim() || null;
  return deps.peerAddress(c.env);
}

/** Who is acting in this request, for the audit log. */
export function actorOf(c: VarsContext): Actor {
  const admin = c.get('admin');
  if (admin) return { type: 'admin', id: admin.id, label: admin.email };
  const key = c.get('apiKey');
  const user = c.get('platformUser');
  if (key)
    return {
      type: 'api_key',
      id: key.id,
      label: `${key.label} (${key.prefix}…)`,
      ...(user ? { userId: user.userId } : {}),
    };
  return { type: 'system', id: null, label: 'system' };
}

/** The {@link Ctx} a domain verb receives for this request. */
export function ctxOf(c: VarsContext): Ctx {
  return { ...c.get('deps'), actor: actorOf(c), requestId: c.get('requestId') ?? null };
}

/** The IANA zone the console shows times in for this viewer (UTC until they choose one). */
export function zoneOf(c: VarsContext): string {
  return c.get('timeZone') ?? 'UTC';
}
