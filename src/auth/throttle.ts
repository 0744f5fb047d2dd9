import { inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { loginThrottle } from '../../db/schema/index.ts';

/**
 * Sign-in throttling, shared by every process through the database.
 * An email is locked for 15 minutes after 5 failures within 15 minutes; an IP address
 * after 20 (several people may share one address). Unknown emails are throttled the
 * same way as known ones, so the lock reveals nothing.
 */
export const THROTTLE = {
  windowSeconds: 15 * 60,
  lockSeconds: 15 * 60,
  maxFailuresPerEmail: 5,
  maxFailuresPerIp: 20,
} as const;

export function throttleKeys(email: string, ip: string | null): { key: string; max: number }[] {
  const keys: { key: string; max: number }[] = [
    { key: `email:${email.trim().toLowerCase()}`, max: THROTTLE.maxFailuresPerEmail },
  ];
  if (ip) keys.push({ key: `ip:${ip}`, max: THROTTLE.maxFailuresPerIp });
  return keys;
}

/** Seconds until the first of `keys` unlocks, or 0 when none is locked at `now`. */
export async function lockedForSeconds(db: Db, keys: string[], now: Date): Promise<number> {
  const rows = await db.select().from(loginThrottle).where(inArray(loginThrottle.key, keys));
  let wait = 0;
  for (const row of rows) {
    if (row.lockedUntil && row.lockedUntil > now)
      wait = Math.max(wait, Math.ceil((row.lockedUntil.getTime() - now.getTime()) / 1000));
  }
  return wait;
}

/**
 * Counts one failure against each key in one statement per key (an upsert, so concurrent
 * failures all count); locks a key that reaches its maximum within the window.
 */
export async function recordFailure(
  db: Db,
  keys: { key: string; max: number }[],
  now: Date,
): Promise<void> {
  const windowStart = new Date(now.getTime() - THROTTLE.windowSeconds * 1000);
  const lockUntil = new Date(now.getTime() + THROTTLE.lockSeconds * 1000);
  for (const { key, max } of keys) {
    await db
      .insert(loginThrottle)
      .values({ key, failures: 1, windowStartedAt: now })
      .onConflictDoUpdate({
        target: loginThrottle.key,
        set: {
          // A window older than 15 minutes starts over.
          failures: sql`case when ${loginThrottle.windowStartedAt} < ${windowStart.toISOString()} then 1 else ${loginThrottle.failures} + 1 end`,
          windowStartedAt: sql`case when ${loginThrottle.windowStartedAt} < ${windowStart.toISOString()} then ${now.toISOString()}::timestamptz else ${loginThrottle.windowStartedAt} end`,
          lockedUntil: sql`case when ${loginThrottle.windowStartedAt} >= ${windowStart.toISOString()} and ${loginThrottle.failures} + 1 >= ${max} then ${lockUntil.toISOString()}::timestamptz else ${loginThrottle.lockedUntil} end`,
        },
      });
  }
}

/** A successful sign-in clears the email's counter (not the IP's: that is shared). */
export async function clearFailures(db: Db, emailKey: string): Promise<void> {
  await db.delete(loginThrottle).where(inArray(loginThrottle.key, [emailKey]));
}
