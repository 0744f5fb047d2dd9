import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { adminSessions, admins, auditLog } from '../../db/schema/index.ts';
import { SESSION_POLICY } from '../../src/auth/sessions.ts';
import { THROTTLE } from '../../src/auth/throttle.ts';
import { createTestApp } from '../helpers/app.ts';
import {
  cookiesFrom,
  get,
  makeAdmin,
  postForm,
  signIn,
  TEST_PASSWORD,
} from '../helpers/factories.ts';

describe('console sign-in', async () => {
  const t = await createTestApp();

  it('redirects /admin to the sign-in page without a session', async () => {
    const res = await get(t, '/admin');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/login?next=%2Fadmin');
    const login = await get(t, '/admin/login');
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('Sign in to fleetwarden');
  });

  it('signs in with the right password and reaches the console', async () => {
    const admin = await makeAdmin(t);
    const res = await postForm(t, '/admin/login', undefined, {
      email: admin.email.toUpperCase(),
      password: TEST_PASSWORD,
      next: '/admin/audit',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/audit');
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^fw_session=/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).not.toMatch(/Secure/); // http public URL
    const page = await get(t, '/admin/instances', cookiesFrom(res));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(admin.email);
  });

  it('never redirects off-site after sign-in', async () => {
    const admin = await makeAdmin(t);
    for (const next of ['https://evil.example/', '//evil.example/admin', '/api/admin/me']) {
      const res = await postForm(t, '/admin/login', undefined, {
        email: admin.email,
        password: TEST_PASSWORD,
        next,
      });
      expect(res.headers.get('location')).toBe('/admin');
    }
  });

  it('sends a `next` with control characters, a backslash or a climb out of /admin to /admin', async () => {
    const admin = await makeAdmin(t);
    const cases: [string, string][] = [
      ['/admin/\r\nSet-Cookie: x=1', '/admin'],
      ['/admin\nLocation: https://evil.example/', '/admin'],
      ['/admin/\u007f', '/admin'],
      ['/admin/\t', '/admin'],
      ['/admin\\..\\..\\evil', '/admin'],
      ['/\\evil.example/admin', '/admin'],
      ['/admin/../api/admin/me', '/admin'],
      ['/admin/instances?q=a b&status=running#top', '/admin/instances?q=a%20b&status=running#top'],
      ['/admin/instances/é', '/admin/instances/%C3%A9'],
    ];
    for (const [next, location] of cases) {
      const res = await postForm(t, '/admin/login', undefined, {
        email: admin.email,
        password: TEST_PASSWORD,
        next,
      });
      expect(res.status, JSON.stringify(next)).toBe(303);
      expect(res.headers.get('location'), JSON.stringify(next)).toBe(location);
    }
    const form = await get(t, `/admin/login?next=${encodeURIComponent('/admin/\r\nx')}`);
    expect(form.status).toBe(200);
  });

  it('answers a wrong password and an unknown email the same way', async () => {
    const admin = await makeAdmin(t);
    const wrong = await postForm(t, '/admin/login', undefined, {
      email: admin.email,
      password: 'not the password',
    });
    const unknown = await postForm(t, '/admin/login', undefined, {
      email: 'nobody@example.test',
      password: 'not the password',
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const message = 'The email or password is not correct.';
    expect(await wrong.text()).toContain(message);
    expect(await unknown.text()).toContain(message);
    expect(wrong.headers.get('set-cookie')).toBeNull();
  });

  it(`locks this client out of an account after ${THROTTLE.maxFailuresPerClient} failures, even for the right password`, async () => {
    const admin = await makeAdmin(t);
    for (let i = 0; i < THROTTLE.maxFailuresPerClient; i++) {
      const res = await postForm(t, '/admin/login', undefined, {
        email: admin.email,
        password: `wrong-${i}`,
      });
      expect(res.status).toBe(401);
    }
    const locked = await postForm(t, '/admin/login', undefined, {
      email: admin.email,
      password: TEST_PASSWORD,
    });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await locked.text()).toContain('Too many failed sign-in attempts');
    // The lock lifts when the window ends.
    t.clock.advance((THROTTLE.windowSeconds + 1) * 1000);
    expect(
      (
        await postForm(t, '/admin/login', undefined, {
          email: admin.email,
          password: TEST_PASSWORD,
        })
      ).status,
    ).toBe(303);
  });

  it('throttles unknown emails exactly like known ones', async () => {
    for (let i = 0; i < THROTTLE.maxFailuresPerClient; i++)
      await postForm(t, '/admin/login', undefined, { email: 'ghost@example.test', password: 'x' });
    expect(
      (await postForm(t, '/admin/login', undefined, { email: 'ghost@example.test', password: 'x' }))
        .status,
    ).toBe(429);
  });

  it('signs out: the old cookie no longer works', async () => {
    const admin = await makeAdmin(t);
    const cookie = await signIn(t, admin.email, TEST_PASSWORD);
    const out = await postForm(t, '/admin/logout', cookie, {});
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/admin/login');
    expect((await get(t, '/admin/instances', cookie)).status).toBe(303);
  });

  it('ends sessions after the idle timeout and after the absolute lifetime', async () => {
    const admin = await makeAdmin(t);
    const idle = await signIn(t, admin.email, TEST_PASSWORD);
    t.clock.advance((SESSION_POLICY.idleSeconds - 60) * 1000);
    expect((await get(t, '/admin/instances', idle)).status).toBe(200); // activity refreshes
    t.clock.advance((SESSION_POLICY.idleSeconds + 1) * 1000);
    expect((await get(t, '/admin/instances', idle)).status).toBe(303);

    const busy = await signIn(t, admin.email, TEST_PASSWORD);
    for (let h = 0; h < SESSION_POLICY.absoluteSeconds / 3600; h++) {
      t.clock.advance(3600 * 1000);
      await get(t, '/admin/instances', busy);
    }
    expect((await get(t, '/admin/instances', busy)).status).toBe(303);
  });

  it('rejects a forged or tampered session cookie', async () => {
    const admin = await makeAdmin(t);
    const cookie = await signIn(t, admin.email, TEST_PASSWORD);
    const tampered = cookie.replace(/=([^.]*)\./, '=AAAA$1.');
    expect((await get(t, '/admin/instances', tampered)).status).toBe(303);
    expect((await get(t, '/admin/instances', 'fw_session=made-up')).status).toBe(303);
  });

  it('stores only hashes of session tokens and passwords', async () => {
    const admin = await makeAdmin(t);
    const cookie = await signIn(t, admin.email, TEST_PASSWORD);
    const token = decodeURIComponent(cookie.split('=')[1] ?? '').split('.')[0] ?? '';
    expect(token.length).toBeGreaterThan(30);
    const sessions = await t.db.db
      .select()
      .from(adminSessions)
      .where(eq(adminSessions.adminId, admin.id));
    expect(sessions.length).toBeGreaterThan(0);
    for (const s of sessions) expect(s.tokenHash).not.toContain(token);
    const [row] = await t.db.db.select().from(admins).where(eq(admins.id, admin.id));
    expect(row?.passwordHash).not.toContain(TEST_PASSWORD);
    expect(t.logs.join('\n')).not.toContain(token);
    expect(t.logs.join('\n')).not.toContain(TEST_PASSWORD);
  });

  it('a one-time password must be replaced before anything else', async () => {
    const admin = await makeAdmin(t, { mustChangePassword: true });
    const cookie = await signIn(t, admin.email, TEST_PASSWORD);
    const res = await get(t, '/admin/instances', cookie);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/account/password');
    const mismatch = await postForm(t, '/admin/account/password', cookie, {
      currentPassword: TEST_PASSWORD,
      newPassword: 'a brand new password',
      confirmPassword: 'a different password',
    });
    expect(mismatch.status).toBe(422);
    const short = await postForm(t, '/admin/account/password', cookie, {
      currentPassword: TEST_PASSWORD,
      newPassword: 'short',
      confirmPassword: 'short',
    });
    expect(short.status).toBe(422);
    expect(await short.text()).toContain('at least 12 characters');
    const ok = await postForm(t, '/admin/account/password', cookie, {
      currentPassword: TEST_PASSWORD,
      newPassword: 'a brand new password',
      confirmPassword: 'a brand new password',
    });
    expect(ok.status).toBe(303);
    expect((await get(t, '/admin/instances', cookie)).status).toBe(200);
    await signIn(t, admin.email, 'a brand new password');
  });

  it('throttles and audits the current-password check of "Change password" like a sign-in', async () => {
    const admin = await makeAdmin(t);
    const cookie = await signIn(t, admin.email, TEST_PASSWORD);
    const change = (currentPassword: string) =>
      postForm(t, '/admin/account/password', cookie, {
        currentPassword,
        newPassword: 'a brand new password',
        confirmPassword: 'a brand new password',
      });
    const statuses = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => (await change(`guess-${i}`)).status),
    );
    expect(statuses.filter((s) => s === 422)).toHaveLength(THROTTLE.maxFailuresPerClient);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20 - THROTTLE.maxFailuresPerClient);
    // Locked out for this client even with the right password, like sign-in.
    const right = await change(TEST_PASSWORD);
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    const audited = async (action: string) =>
      (await t.db.db.select().from(auditLog).where(eq(auditLog.action, action))).filter(
        (r) => r.subjectId === admin.id,
      );
    const failed = await audited('admin.password_change_failed');
    expect(failed).toHaveLength(THROTTLE.maxFailuresPerClient);
    expect(failed[0]).toMatchObject({ actorId: admin.id, payload: { reason: 'wrong_password' } });

    // Once the window has passed, the right password changes it, audited with the actor.
    t.clock.advance((THROTTLE.windowSeconds + 1) * 1000);
    expect((await change(TEST_PASSWORD)).status).toBe(303);
    const changed = await audited('admin.password_change');
    expect(changed).toHaveLength(1);
    expect(changed[0]?.actorId).toBe(admin.id);
  });

  it('marks the cookie Secure with the __Host- prefix when the public URL is https', async () => {
    const secure = await createTestApp({ env: { PUBLIC_URL: 'https://fleet.example.com' } });
    const admin = await makeAdmin(secure);
    const res = await postForm(secure, '/admin/login', undefined, {
      email: admin.email,
      password: TEST_PASSWORD,
    });
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^__Host-fw_session=/);
    expect(setCookie).toMatch(/Secure/);
    expect(setCookie).toMatch(/Path=\//);
    expect((await get(secure, '/admin/instances', cookiesFrom(res))).status).toBe(200);
  });
});
