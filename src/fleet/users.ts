import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { users } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx } from '../deps.ts';
import { NotFoundError } from '../lib/errors.ts';

export type User = typeof users.$inferSelect;

/**
 * The user with this email (case-insensitive), created when there is none. Safe under
 * concurrency: the unique index on lower(email) decides, and the loser reads the winner.
 */
export async function findOrCreateUser(
  db: Db,
  input: { email: string; displayName?: string | null },
): Promise<User> {
  const email = input.email.trim().toLowerCase();
  const byEmail = sql`lower(${users.email}) = ${email}`;
  const [existing] = await db.select().from(users).where(byEmail);
  if (existing) return existing;
  const [created] = await db
    .insert(users)
    .values({ email, displayName: input.displayName?.trim() || null })
    .onConflictDoNothing()
    .returning();
  if (created) return created;
  const [winner] = await db.select().from(users).where(byEmail);
  if (!winner) throw new Error(`user ${email} vanished`);
  return winner;
}

/** How to reach a user: address, name and zone; `deletedAt` set when erased (GDPR). */
export type Contact = Pick<User, 'id' | 'email' | 'displayName' | 'timeZone' | 'deletedAt'>;

/** The contacts of these users, by id (unknown ids are absent). */
export async function contactsOf(db: Db, ids: string[]): Promise<Map<string, Contact>> {
  if (!ids.length) return new Map();
  const rows = await db
    .select({
      id: users.id,
      email: users.email,
      displayName: users.displayName,
      timeZone: users.timeZone,
      deletedAt: users.deletedAt,
    })
    .from(users)
    .where(inArray(users.id, ids));
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * A user's token version (platform user tokens minted at another version are revoked),
 * or null for an unknown or erased user.
 */
export async function userTokenVersion(db: Db, userId: string): Promise<number | null> {
  const [row] = await db
    .select({ version: users.tokenVersion, deletedAt: users.deletedAt })
    .from(users)
    .where(eq(users.id, userId));
  return row && !row.deletedAt ? row.version : null;
}

/**
 * Revokes every platform user token of this user (raises its token version). Audited
 * (`user.tokens_revoke`). Throws NotFoundError for an unknown or erased user.
 */
export async function revokeUserTokens({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { userId: string };
}): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(users)
      .set({ tokenVersion: sql`${users.tokenVersion} + 1` })
      .where(and(eq(users.id, input.userId), isNull(users.deletedAt)))
      .returning({ version: users.tokenVersion });
    if (!row) throw new NotFoundError('User', input.userId);
    await recordAudit(tx, ctx, {
      action: 'user.tokens_revoke',
      subjectType: 'user',
      subjectId: input.userId,
      payload: { tokenVersion: row.version },
    });
  });
}
