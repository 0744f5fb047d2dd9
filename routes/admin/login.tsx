import { Hono } from 'hono';
import { z } from 'zod';
import { InvalidCredentialsError, signIn, signOut } from '../../src/auth/sign-in.ts';
import { TooManyRequestsError } from '../../src/lib/errors.ts';
import { isStorableText, NOT_STORABLE_TEXT } from '../../src/lib/text.ts';
import { LoginPage } from '../../views/pages/login.tsx';
import { type AppEnv, clientIp } from '../env.ts';
import {
  clearSessionCookie,
  readSessionToken,
  setSessionCookie,
} from '../middleware/admin-session.ts';

const CONSOLE = '/admin';
// A stand-in origin: `next` is resolved against it to see whether it stays on it.
const PROBE_ORIGIN = 'http://console.invalid';

// Control characters, and backslashes (which browsers read as `/`), are refused outright.
const hasUnsafeCharacter = (s: string) =>
  Array.from(s).some((ch) => ch <= '\u001f' || ch === '\u007f' || ch === '\\');

/**
 * Where to go after sign-in: a same-origin path under /admin, as the URL parser normalises
 * it (percent-encoded, dot segments resolved), else `/admin`. Never an open redirect, and
 * never a header value with a control character (a CR/LF would make the redirect throw).
 */
export function safeNext(next: string | undefined | null): string {
  if (!next?.startsWith('/') || hasUnsafeCharacter(next)) return CONSOLE;
  let url: URL;
  try {
    url = new URL(next, PROBE_ORIGIN);
  } catch {
    return CONSOLE;
  }
  if (url.origin !== PROBE_ORIGIN || !/^\/admin(\/|$)/.test(url.pathname)) return CONSOLE;
  return `${url.pathname}${url.search}${url.hash}`;
}

// Text the database can store: a NUL byte in the email would otherwise reach the
// throttle's and the admins' queries. The password is only hashed, never stored as sent.
const text = () => z.string().refine(isStorableText, NOT_STORABLE_TEXT);
const LoginForm = z.object({
  email: text().trim().max(320),
  password: z.string().max(1024),
  next: text().max(2000).optional(),
});

/** Sign-in and sign-out. Public: the rest of /admin requires a session. */
export function loginRoutes() {
  const app = new Hono<AppEnv>();

  app.get('/login', (c) =>
    c.html(<LoginPage assets={c.get('assets').urls} next={safeNext(c.req.query('next'))} />),
  );

  app.post('/login', async (c) => {
    const deps = c.get('deps');
    const parsed = LoginForm.safeParse(await c.req.parseBody());
    const assets = c.get('assets').urls;
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
      return c.html(
        <LoginPage
          assets={assets}
          error={`Enter your email and password (${fields.join('; ')}).`}
        />,
        400,
      );
    }
    const { email, password, next } = parsed.data;
    try {
      const { token } = await signIn(deps, {
        email,
        password,
        ip: clientIp(c),
        userAgent: c.req.header('user-agent') ?? null,
        requestId: c.get('requestId'),
      });
      await setSessionCookie(c, deps, token);
      return c.redirect(safeNext(next), 303);
    } catch (err) {
      if (err instanceof InvalidCredentialsError)
        return c.html(
          <LoginPage assets={assets} error={err.message} email={email} next={next} />,
          401,
        );
      if (err instanceof TooManyRequestsError) {
        c.header('Retry-After', String(err.retryAfterSeconds));
        return c.html(
          <LoginPage assets={assets} error={err.message} email={email} next={next} />,
          429,
        );
      }
      throw err;
    }
  });

  app.post('/logout', async (c) => {
    const deps = c.get('deps');
    const token = await readSessionToken(c, deps);
    if (token) await signOut(deps, { token, requestId: c.get('requestId') });
    clearSessionCookie(c, deps);
    return c.redirect('/admin/login', 303);
  });

  return app;
}
