import { describe, expect, it } from 'vitest';
import { THROTTLE } from '../../src/auth/throttle.ts';
import { createTestApp } from '../helpers/app.ts';
import { makeAdmin, TEST_PASSWORD } from '../helpers/factories.ts';

// Throttling per (client, account) plus a per-account slowdown, with real concurrent
// requests: the attempt is counted before the password check, in one guarded statement.
describe('sign-in throttling', async () => {
  const t = await createTestApp({ serve: true });
  let ipSeq = 0;
  const newClient = () => `198.51.100.${++ipSeq}`;
  /** A sign-in from client `ip` (the peer address the runtime reports). */
  const attempt = (email: string, password: string, ip: string) =>
    t.app.request(
      t.url('/admin/login'),
      {
        method: 'POST',
        headers: { Origin: t.origin, 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ email, password }),
      },
      { remoteAddr: { hostname: ip } },
    );
  /** How many attempts for `email` reached the password check and failed there. */
  const checked = (email: string) =>
    t.logs.filter((l) => l.includes('"auth.sign_in_failed"') && l.includes(email)).length;

  it('30 concurrent wrong guesses over real connections: only the allowed few reach the password check', async () => {
    const admin = await makeAdmin(t);
    const statuses = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const res = await fetch(t.url('/admin/login'), {
          method: 'POST',
          redirect: 'manual',
          headers: { Origin: t.origin, 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ email: admin.email, password: `guess-${i}` }),
        });
        await res.arrayBuffer();
        return res.status;
      }),
    );
    const wrong = statuses.filter((s) => s === 401).length;
    expect(wrong).toBe(THROTTLE.maxFailuresPerClient);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30 - wrong);
    expect(checked(admin.email)).toBe(wrong);
  });

  it('30 concurrent wrong guesses from 3 addresses: the account slowdown holds', async () => {
    const admin = await makeAdmin(t);
    const ips = [newClient(), newClient(), newClient()];
    const statuses = await Promise.all(
      Array.from(
        { length: 30 },
        async (_, i) => (await attempt(admin.email, `guess-${i}`, ips[i % 3] ?? '')).status,
      ),
    );
    const wrong = statuses.filter((s) => s === 401).length;
    expect(statuses.filter((s) => s === 429)).toHaveLength(30 - wrong);
    expect(checked(admin.email)).toBe(wrong);
    // Sequentially: 10 checks bring the account to the slowdown (at least two addresses
    // spent them, 5 each at most), the third address's first attempt is exempt, and the
    // account's one slot goes to one client (the clock stands still here). Never more.
    expect(wrong).toBeLessThanOrEqual(THROTTLE.slowAccountAfter + 2);
    expect(wrong).toBeGreaterThanOrEqual(THROTTLE.slowAccountAfter);
  });

  it('does not lock the right password out from another client', async () => {
    const admin = await makeAdmin(t);
    const attacker = newClient();
    for (let i = 0; i < THROTTLE.maxFailuresPerClient; i++)
      expect((await attempt(admin.email, `wrong-${i}`, attacker)).status).toBe(401);
    expect((await attempt(admin.email, TEST_PASSWORD, attacker)).status).toBe(429);
    expect((await attempt(admin.email, TEST_PASSWORD, newClient())).status).toBe(303);
  });

  it('slows an attacked account down for clients that failed, not for a clean client', async () => {
    const admin = await makeAdmin(t);
    const attackers = Array.from({ length: THROTTLE.slowAccountAfter }, newClient);
    // One failure from each of many clients: the account is now under attack.
    await Promise.all(attackers.map((ip) => attempt(admin.email, 'spray', ip)));
    expect(checked(admin.email)).toBe(THROTTLE.slowAccountAfter);

    // Every attacker that already failed tries again at once: one password check per
    // spacing for the whole account.
    const again = await Promise.all(attackers.map((ip) => attempt(admin.email, 'spray-2', ip)));
    const statuses = again.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(1);
    expect(statuses.filter((s) => s === 429)).toHaveLength(attackers.length - 1);
    const retry = again.find((r) => r.status === 429)?.headers.get('retry-after');
    expect(Number(retry)).toBeGreaterThan(0);
    expect(Number(retry)).toBeLessThanOrEqual(THROTTLE.accountSpacingSeconds);
    expect(checked(admin.email)).toBe(THROTTLE.slowAccountAfter + 1);

    // The real admin, from a client with no failures, is not slowed down.
    expect((await attempt(admin.email, TEST_PASSWORD, newClient())).status).toBe(303);
    // After the spacing, a failed client gets its next check.
    t.clock.advance(THROTTLE.accountSpacingSeconds * 1000);
    expect((await attempt(admin.email, 'spray-3', attackers[0] ?? '')).status).toBe(401);
  });

  it('throttles an unknown email exactly like a known one', async () => {
    const ip = newClient();
    const email = 'nobody-here@example.test';
    const statuses = await Promise.all(
      Array.from({ length: 12 }, async () => (await attempt(email, 'x', ip)).status),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(THROTTLE.maxFailuresPerClient);
    expect(statuses.filter((s) => s === 429)).toHaveLength(12 - THROTTLE.maxFailuresPerClient);
  });

  it('starts over when the window has passed', async () => {
    const admin = await makeAdmin(t);
    const ip = newClient();
    for (let i = 0; i <= THROTTLE.maxFailuresPerClient; i++) await attempt(admin.email, 'no', ip);
    expect((await attempt(admin.email, TEST_PASSWORD, ip)).status).toBe(429);
    t.clock.advance((THROTTLE.windowSeconds + 1) * 1000);
    expect((await attempt(admin.email, 'no', ip)).status).toBe(401);
    expect((await attempt(admin.email, TEST_PASSWORD, ip)).status).toBe(303);
  });
});
