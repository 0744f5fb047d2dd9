import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { userPushTokens } from '../../db/schema/index.ts';

/** An Expo push token as Expo issues it (docs.expo.dev/push-notifications). */
export const EXPO_TOKEN = /^Expo(nent)?PushToken\[[A-Za-z0-9_-]{1,200}\]$/;

/** Registers a device's token for a user; repeating is a no-op, and a token moves to its new user. */
export async function registerPushToken(
  db: Db,
  input: { userId: string; token: string; now: Date },
) {
  await db
    .insert(userPushTokens)
    .values({ token: input.token, userId: input.userId, createdAt: input.now })
    .onConflictDoUpdate({ target: userPushTokens.token, set: { userId: input.userId } });
}

/** Forgets a user's token; unknown tokens are a no-op. Returns whether one was removed. */
export async function removePushToken(db: Db, input: { userId: string; token: string }) {
  const gone = await db
    .delete(userPushTokens)
    .where(and(eq(userPushTokens.token, input.token), eq(userPushTokens.userId, input.userId)))
    .returning({ token: userPushTokens.token });
  return gone.length > 0;
}

/** Forgets tokens Expo said are dead (`DeviceNotRegistered`), whoever they belong to. */
export async function forgetPushTokens(db: Db, tokens: string[]) {
  if (tokens.length) await db.delete(userPushTokens).where(inArray(userPushTokens.token, tokens));
}

/** Every token of these users, by user id. */
export async function pushTokensOf(db: Db, userIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!userIds.length) return out;
  const rows = await db
    .select()
    .from(userPushTokens)
    .where(inArray(userPushTokens.userId, [...new Set(userIds)]));
  for (const r of rows) out.set(r.userId, [...(out.get(r.userId) ?? []), r.token]);
  return out;
}
