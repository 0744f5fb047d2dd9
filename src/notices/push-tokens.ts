import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { userPushTokens } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx } from '../deps.ts';
import { NotFoundError } from '../lib/errors.ts';

/** An Expo push token as Expo issues it (docs.expo.dev/push-notifications). */
export const EXPO_TOKEN = /^Expo(nent)?PushToken\[[A-Za-z0-9_-]{1,200}\]$/;

/** A token as the audit log shows it: its last 4 characters only (tokens are credentials). */
const redacted = (token: string) => `…${token.slice(-5, -1)}`;

/**
 * Registers a device's token for a user; repeating is a no-op. A token registered to
 * another user moves to this one when `mayMove` (the platform key: the device changed
 * hands), else it throws NotFoundError (a user token cannot take another user's device).
 * Audited (`push_token.register`, the token shortened).
 */
export async function registerPushToken({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { userId: string; token: string; mayMove: boolean };
}) {
  await ctx.db.transaction(async (tx) => {
    const [owner] = await tx
      .select({ userId: userPushTokens.userId })
      .from(userPushTokens)
      .where(eq(userPushTokens.token, input.token))
      .for('update');
    if (owner?.userId === input.userId) return;
    if (owner && !input.mayMove) throw new NotFoundError('Push token');
    await tx
      .insert(userPushTokens)
      .values({ token: input.token, userId: input.userId, createdAt: ctx.clock.now() })
      .onConflictDoUpdate({ target: userPushTokens.token, set: { userId: input.userId } });
    await recordAudit(tx, ctx, {
      action: 'push_token.register',
      subjectType: 'user',
      subjectId: input.userId,
      payload: { token: redacted(input.token), moved: Boolean(owner) },
    });
  });
}

/**
 * Forgets a user's token; unknown tokens, and other users', are a no-op. Returns whether
 * one was removed (audited then: `push_token.remove`).
 */
export async function removePushToken({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { userId: string; token: string };
}) {
  return ctx.db.transaction(async (tx) => {
    const gone = await tx
      .delete(userPushTokens)
      .where(and(eq(userPushTokens.token, input.token), eq(userPushTokens.userId, input.userId)))
      .returning({ token: userPushTokens.token });
    if (gone.length > 0)
      await recordAudit(tx, ctx, {
        action: 'push_token.remove',
        subjectType: 'user',
        subjectId: input.userId,
        payload: { token: redacted(input.token) },
      });
    return gone.length > 0;
  });
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
