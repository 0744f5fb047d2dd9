import { and, eq, gt, gte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { loginThrottle } from '../../db/schema/index.ts';

/**
 * Sign-in throttling, shared by every process through the database (`login_throttle`),
 * with two counters per attempt:
 *
 * - `pair:<email>|<client ip>`: at most `maxFailuresPerClient` failed attempts per client
 *   and account within a window of `windowSeconds` (starting at the first failure). The
 *   attempt is counted *before* the password is checked, in one guarded upsert, so
 *   concurrent guesses cannot all get past the count; a sign-in clears it. Locks out only
 *   that client for that account, so nobody can lock out another person's account.
 * - `account:<email>`: failures from every client within the window. Past
 *   `slowAccountAfter`, a client that has already failed for this account gets at most one
 *   password check per `accountSpacingSeconds` for the whole account (a slowdown, not a
 *   lock). A client with no failures for the account is exempt, so the right password from
 *   a clean client still signs in during an attack from elsewhere.
 *
 * Unknown emails are counted exactly like known ones, so throttling reveals nothing.
 * OWASP Authentication Cheat Sheet, "Protect Against Automated Attacks".
 */
export const THROTTLE = {
  windowSeconds: 15 * 60,
  maxFailuresPerClient: 5,
  slowAccountAfter: 10,
  accountSpacingSeconds: 5,
} as const;

export type ThrottleKeys = { pair: string; account: string };

export function throttleKeys(email: string, ip: string | null): ThrottleKeys {
  const account = email.trim().toLowerCase();
  // Without a client address (no peer, no proxy header) every client shares one pair.
  return { pair: `pair:${account}|${ip ?? 'unknown'}`, account: `account:${account}` };
}

const windowStart = (now: Date) => new Date(now.getTime() - THROTTLE.windowSeconds * 1000);
const secondsUntil = (at: Date, now: Date) =>
  Math.max(1, Math.ceil((at.getTime() - now.getTime()) / 1000));

/** Failures counted for a key within the current window (0 when none or expired). */
async function failuresInWindow(db: Db, key: string, now: Date): Promise<number> {
  const [row] = await db
    .select({ failures: loginThrottle.failures })
    .from(loginThrottle)
    .where(and(eq(loginThrottle.key, key), gte(loginThrottle.windowStartedAt, windowStart(now))));
  return row?.failures ?? 0;
}

/**
 * Counts one attempt against `key` unless its window is already full, in one guarded
 * statement (INSERT … ON CONFLICT DO UPDATE … WHERE: PostgreSQL locks the row and evaluates
 * the guard on its latest version, so concurrent attempts are counted one by one). A window
 * older than `windowSeconds` starts over. Returns the seconds to wait when the window is
 * full (nothing counted), else 0.
 */
async function countAttempt(db: Db, key: string, max: number, now: Date): Promise<number> {
  const start = windowStart(now).toISOString();
  const expired = sql`${loginThrottle.windowStartedAt} < ${start}::timestamptz`;
  const counted = await db
    .insert(loginThrottle)
    .values({ key, failures: 1, windowStartedAt: now })
    .onConflictDoUpdate({
      target: loginThrottle.key,
      set: {
        failures: sql`case when ${expired} then 1 else ${loginThrottle.failures} + 1 end`,
        windowStartedAt: sql`case when ${expired} then ${now.toISOString()}::timestamptz else ${loginThrottle.windowStartedAt} end`,
      },
      setWhere: sql`${expired} or ${loginThrottle.failures} < ${max}`,
    })
    .returning({ failures: loginThrottle.failures });
  if (counted.length > 0) return 0;
  const [row] = await db
    .select({ windowStartedAt: loginThrottle.windowStartedAt })
    .from(loginThrottle)
    .where(eq(loginThrottle.key, key));
  const ends = new Date((row?.windowStartedAt ?? now).getTime() + THROTTLE.windowSeconds * 1000);
  return secondsUntil(ends, now);
}

/**
 * Claims the account's next password check while it is slowed down: one guarded UPDATE
 * moves `locked_until` (here: "next check not before") forward only if it has passed.
 * Returns the seconds to wait when another client holds the slot, else 0 (claimed, or the
 * account is not slowed down).
 */
async function claimAccountSlot(db: Db, key: string, now: Date): Promise<number> {
  const slowed = and(
    eq(loginThrottle.key, key),
    gte(loginThrottle.windowStartedAt, windowStart(now)),
    gte(loginThrottle.failures, THROTTLE.slowAccountAfter),
  );
  const claimed = await db
    .update(loginThrottle)
    .set({ lockedUntil: new Date(now.getTime() + THROTTLE.accountSpacingSeconds * 1000) })
    .where(
      and(
        slowed,
        sql`(${loginThrottle.lockedUntil} is null or ${loginThrottle.lockedUntil} <= ${now.toISOString()}::timestamptz)`,
      ),
    )
    .returning({ key: loginThrottle.key });
  if (claimed.length > 0) return 0;
  const [busy] = await db
    .select({ lockedUntil: loginThrottle.lockedUntil })
    .from(loginThrottle)
    .where(and(slowed, gt(loginThrottle.lockedUntil, now)));
  return busy?.lockedUntil ? secondsUntil(busy.lockedUntil, now) : 0;
}

/**
 * Decides whether this attempt may check a password, and counts it. Call before the
 * check; the answer is the seconds to wait (0: go ahead). The attempt counts as a failure
 * for the (client, account) pair until {@link signedIn} clears it.
 */
export async function beginAttempt(db: Db, keys: ThrottleKeys, now: Date): Promise<number> {
  // Only a client that has failed for this account is slowed down with it.
  if ((await failuresInWindow(db, keys.pair, now)) > 0) {
    const wait = await claimAccountSlot(db, keys.account, now);
    if (wait > 0) return wait;
  }
  return countAttempt(db, keys.pair, THROTTLE.maxFailuresPerClient, now);
}

/** A failed password check: one more failure for the account (one atomic upsert). */
export async function failedAttempt(db: Db, keys: ThrottleKeys, now: Date): Promise<void> {
  const start = windowStart(now).toISOString();
  const expired = sql`${loginThrottle.windowStartedAt} < ${start}::timestamptz`;
  await db
    .insert(loginThrottle)
    .values({ key: keys.account, failures: 1, windowStartedAt: now })
    .onConflictDoUpdate({
      target: loginThrottle.key,
      set: {
        failures: sql`case when ${expired} then 1 else ${loginThrottle.failures} + 1 end`,
        windowStartedAt: sql`case when ${expired} then ${now.toISOString()}::timestamptz else ${loginThrottle.windowStartedAt} end`,
        lockedUntil: sql`case when ${expired} then null else ${loginThrottle.lockedUntil} end`,
      },
    });
}

/**
 * A successful sign-in clears the client's count for the account; the account's own
 * count stays (an attack from elsewhere is still going on).
 */
export async function signedIn(db: Db, keys: ThrottleKeys): Promise<void> {
  await db.delete(loginThrottle).where(eq(loginThrottle.key, keys.pair));
}
