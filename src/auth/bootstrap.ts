import { sql } from 'drizzle-orm';
import { admins } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Deps } from '../deps.ts';
import { generateOneTimePassword } from './admins.ts';
import { hashPassword } from './passwords.ts';

export type FirstAdmin =
  | { created: false }
  | { created: true; email: string; password: string; generated: boolean };

/**
 * On an empty `admins` table, creates the first admin from the configuration: the given
 * password, or a random one-time password (18 random bytes, base64url) the admin must
 * change at first sign-in. An advisory lock makes concurrent start-ups create one admin;
 * only the process that created it gets the password back, so it is printed once.
 */
export async function ensureFirstAdmin(deps: Deps): Promise<FirstAdmin> {
  const wanted = deps.config.firstAdmin;
  if (!wanted) return { created: false };
  const [{ count } = { count: 0 }] = await deps.db
    .select({ count: sql<number>`count(*)::int` })
    .from(admins);
  if (count > 0) return { created: false };
  const generated = wanted.password === null;
  const password = wanted.password ?? generateOneTimePassword();
  const passwordHash = await hashPassword(password, deps.security.pbkdf2Iterations);
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('fleetwarden:first-admin'))`);
    const [{ n } = { n: 0 }] = await tx.select({ n: sql<number>`count(*)::int` }).from(admins);
    if (n > 0) return { created: false } as const;
    const [row] = await tx
      .insert(admins)
      .values({ email: wanted.email, passwordHash, mustChangePassword: generated })
      .returning();
    await recordAudit(
      tx,
      { actor: { type: 'system', id: null, label: 'system' }, requestId: null },
      {
        action: 'admin.create',
        subjectType: 'admin',
        subjectId: row?.id,
        payload: { email: wanted.email, source: 'first-start' },
      },
    );
    return { created: true, email: wanted.email, password, generated } as const;
  });
}
