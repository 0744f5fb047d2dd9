import { inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { users } from '../../db/schema/index.ts';

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
