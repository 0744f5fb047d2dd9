import { and, eq, gte, sql } from 'drizzle-orm';
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
 * - `account:<email>`: attempts from every client within the window, also counted before
 *   the check (a successful one is given back). Past `slowAccountAfter`, a client that has
 *   already failed for this account gets at most one password check per
 *   `accountSpacingSeconds` for the whole account (a slowdown, not a lock). A client with no
 *   failures for the account is exempt, so the right password from a clean client still
 *   signs in during an attack from elsewhere. The decision and both counts are made under
 *   a lock on the account's row, so they hold under any concurrency.
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
        lockedUntil: sql`case when ${expired} then null else ${loginThrottle.lockedUntil} end`,
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
 * The account's row, created when missing and locked (`FOR UPDATE`) until the
 * transaction ends: every attempt for one account decides and reserves in turn, so
 * concurrent guesses cannot all read "not slowed down yet". Expired windows read as empty.
 */
async function lockAccount(tx: Db, key: string, now: Date) {
  await tx
    .insert(loginThrottle)
    .values({ key, failures: 0, windowStartedAt: now })
    .onConflictDoNothing();
  const [row] = await tx
    .select()
    .from(loginThrottle)
    .where(eq(loginThrottle.key, key))
    .for('update');
  const live = row && row.windowStartedAt >= windowStart(now);
  return { failures: live ? row.failures : 0, lockedUntil: live ? row.lockedUntil : null };
}

// The account's own count has no cap (it slows down, never locks); the column is int4.
const UNBOUNDED = 2 ** 31 - 1;

/**
 * Decides whether this attempt may check a password and reserves it, atomically per
 * account: the account's row is locked, then (1) a client that has already failed for an
 * account past `slowAccountAfter` must take the account's next slot (one per
 * `accountSpacingSeconds`), (2) the (client, account) pair must have room, and (3) the
 * attempt is counted on both before any password is checked. The answer is the seconds to
 * wait (0: go ahead). {@link signedIn} gives a successful attempt back.
 */
export async function beginAttempt(db: Db, keys: ThrottleKeys, now: Date): Promise<number> {
  return db.transaction(async (tx) => {
    const account = await lockAccount(tx, keys.account, now);
    // Only a client that has failed for this account is slowed down with it.
    const slowed =
      account.failures >= THROTTLE.slowAccountAfter &&
      (await failuresInWindow(tx, keys.pair, now)) > 0;
    if (slowed && account.lockedUntil && account.lockedUntil > now)
      return secondsUntil(account.lockedUntil, now);
    const wait = await countAttempt(tx, keys.pair, THROTTLE.maxFailuresPerClient, now);
    if (wait > 0) return wait;
    // Counted on the account now, under the lock: the next attempt sees it.
    await countAttempt(tx, keys.account, UNBOUNDED, now);
    if (slowed)
      await tx
        .update(loginThrottle)
        .set({ lockedUntil: new Date(now.getTime() + THROTTLE.accountSpacingSeconds * 1000) })
        .where(eq(loginThrottle.key, keys.account));
    return 0;
  });
}

/**
 * A successful password check: the client's count for the account is cleared and the
 * attempt reserved on the account is given back (the account's other failures stay: an
 * attack from elsewhere is still going on).
 */
export async function signedIn(db: Db, keys: ThrottleKeys): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(loginThrottle).where(eq(loginThrottle.key, keys.pair));
    await tx
      .update(loginThrottle)
      .set({ failures: sql`greatest(${loginThrottle.failures} - 1, 0)` })
      .where(eq(loginThrottle.key, keys.account));
  });
}
