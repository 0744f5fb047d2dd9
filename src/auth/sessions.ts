import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { adminSessions, admins } from '../../db/schema/index.ts';
import { randomToken, sha256Hex } from '../lib/crypto.ts';
import { type AdminView, toView } from './admins.ts';

/**
 * Console sessions end 12 hours after sign-in, or after 2 idle hours, whichever is first.
 * `last_seen_at` is written at most once a minute per session to keep reads cheap.
 */
export const SESSION_POLICY = {
  absoluteSeconds: 12 * 3600,
  idleSeconds: 2 * 3600,
  touchEverySeconds: 60,
} as const;

export type Session = typeof adminSessions.$inferSelect;

/** Creates a session row; returns the cookie token (only its SHA-256 is stored). */
export async function createSession(
  db: Db,
  input: { adminId: string; userAgent: string | null; now: Date },
): Promise<{ token: string; session: Session }> {
  const token = randomToken(32);
  const [session] = await db
    .insert(adminSessions)
    .values({
      adminId: input.adminId,
      tokenHash: await sha256Hex(token),
      createdAt: input.now,
      lastSeenAt: input.now,
      expiresAt: new Date(input.now.getTime() + SESSION_POLICY.absoluteSeconds * 1000),
      userAgent: input.userAgent?.slice(0, 300) ?? null,
    })
    .returning();
  if (!session) throw new Error('session insert returned no row');
  return { token, session };
}

/**
 * The live session and admin for a cookie token, or null when the token is unknown,
 * revoked, past its absolute or idle expiry, or its admin is disabled.
 */
export async function resolveSession(
  db: Db,
  token: string,
  now: Date,
): Promise<{ session: Session; admin: AdminView } | null> {
  const [row] = await db
    .select({ session: adminSessions, admin: admins })
    .from(adminSessions)
    .innerJoin(admins, eq(admins.id, adminSessions.adminId))
    .where(
      and(eq(adminSessions.tokenHash, await sha256Hex(token)), isNull(adminSessions.revokedAt)),
    );
  if (!row) return null;
  const { session, admin } = row;
  const idleLimit = new Date(now.getTime() - SESSION_POLICY.idleSeconds * 1000);
  if (admin.disabledAt || session.expiresAt <= now || session.lastSeenAt <= idleLimit) return null;
  if (now.getTime() - session.lastSeenAt.getTime() >= SESSION_POLICY.touchEverySeconds * 1000) {
    await db
      .update(adminSessions)
      .set({ lastSeenAt: now })
      .where(and(eq(adminSessions.id, session.id), lt(adminSessions.lastSeenAt, now)));
  }
  return { session, admin: toView(admin) };
}

/** Ends a session (sign-out). Unknown tokens are ignored. */
export async function revokeSession(db: Db, token: string, now: Date): Promise<string | null> {
  const [row] = await db
    .update(adminSessions)
    .set({ revokedAt: now })
    .where(
      and(eq(adminSessions.tokenHash, await sha256Hex(token)), isNull(adminSessions.revokedAt)),
    )
    .returning({ adminId: adminSessions.adminId });
  return row?.adminId ?? null;
}

/** Ends every session of an admin (password change elsewhere, disable). */
export async function revokeAllSessions(
  db: Db,
  adminId: string,
  now: Date,
  exceptSessionId?: string,
) {
  await db
    .update(adminSessions)
    .set({ revokedAt: now })
    .where(
      and(
        eq(adminSessions.adminId, adminId),
        isNull(adminSessions.revokedAt),
        exceptSessionId ? sql`${adminSessions.id} <> ${exceptSessionId}` : undefined,
      ),
    );
}
