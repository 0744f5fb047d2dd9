import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import { resolveSession, SESSION_POLICY } from '../../src/auth/sessions.ts';
import type { Deps } from '../../src/deps.ts';
import type { AppEnv } from '../env.ts';

/**
 * The session cookie: `fw_session`, becoming `__Host-fw_session` (Secure, Path=/, no
 * Domain) when the public URL is https.
 */
export function sessionCookie(deps: Deps) {
  const secure = deps.config.publicUrl.startsWith('https://');
  return {
    name: 'fw_session',
    secure,
    prefix: secure ? ('host' as const) : undefined,
    secret: deps.security.sessionSecret,
  };
}

export async function setSessionCookie(c: Context<AppEnv>, deps: Deps, token: string) {
  const cookie = sessionCookie(deps);
  await setSignedCookie(c, cookie.name, token, cookie.secret, {
    httpOnly: true,
    sameSite: 'Lax',
    path: '/',
    secure: cookie.secure,
    maxAge: SESSION_POLICY.absoluteSeconds,
    ...(cookie.prefix ? { prefix: cookie.prefix } : {}),
  });
}

export function clearSessionCookie(c: Context<AppEnv>, deps: Deps) {
  const cookie = sessionCookie(deps);
  deleteCookie(c, cookie.name, {
    path: '/',
    secure: cookie.secure,
    ...(cookie.prefix ? { prefix: cookie.prefix } : {}),
  });
}

export async function readSessionToken(c: Context<AppEnv>, deps: Deps): Promise<string | null> {
  const cookie = sessionCookie(deps);
  const value = await getSignedCookie(c, cookie.secret, cookie.name, cookie.prefix);
  return typeof value === 'string' && value ? value : null;
}

const PASSWORD_PAGE = '/admin/account/password';

function isValidZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Guards console pages: no live session means a redirect to the sign-in page (for htmx
 * requests, an `HX-Redirect`). An admin holding a one-time password is sent to choose a
 * new one first. Sets `admin`, `session` and `timeZone` (the admin's chosen zone, else
 * the browser's from the `tz` cookie set by app.js, else UTC).
 */
export function requireAdminSession(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const deps = c.get('deps');
    const token = await readSessionToken(c, deps);
    const live = token ? await resolveSession(deps.db, token, deps.clock.now()) : null;
    if (!live) {
      if (token) clearSessionCookie(c, deps);
      const back =
        c.req.method === 'GET' ? c.req.path + (new URL(c.req.url).search || '') : '/admin';
      const target = `/admin/login?next=${encodeURIComponent(back)}`;
      if (c.req.header('HX-Request')) {
        c.header('HX-Redirect', target);
        return c.body(null, 401);
      }
      return c.redirect(target, 303);
    }
    c.set('admin', live.admin);
    c.set('session', live.session);
    const browserZone = getCookie(c, 'tz');
    c.set(
      'timeZone',
      live.admin.timeZone ?? (browserZone && isValidZone(browserZone) ? browserZone : 'UTC'),
    );
    if (
      live.admin.mustChangePassword &&
      c.req.path !== PASSWORD_PAGE &&
      c.req.path !== '/admin/logout'
    ) {
      return c.redirect(PASSWORD_PAGE, 303);
    }
    await next();
  };
}
