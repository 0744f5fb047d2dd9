import { eq } from 'drizzle-orm';
import { admins } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Deps } from '../deps.ts';
import { AppError, TooManyRequestsError } from '../lib/errors.ts';
import { type AdminView, findAdminByEmail, toView } from './admins.ts';
import { hashPassword, timingDummyHash, verifyPassword } from './passwords.ts';
import { createSession, revokeSession } from './sessions.ts';
import { beginAttempt, signedIn, throttleKeys } from './throttle.ts';

/** Wrong email or password: one message for both, so it reveals nothing. */
export class InvalidCredentialsError extends AppError {
  constructor() {
    super(401, 'invalid-credentials', 'Sign-in failed', 'The email or password is not correct.');
  }
}

/**
 * Checks credentials and opens a console session.
 *
 * Throws {@link TooManyRequestsError} (429) while this client is locked out of this account
 * or the account is slowed down for it (see `throttle.ts`), even for the right password,
 * without checking it; {@link InvalidCredentialsError} (401) for a wrong email or password. An unknown email
 * costs the same PBKDF2 work as a known one. Upgrades a hash stored with fewer iterations.
 */
export async function signIn(
  deps: Deps,
  input: {
    email: string;
    password: string;
    ip: string | null;
    userAgent: string | null;
    requestId: string | null;
  },
): Promise<{ token: string; admin: AdminView }> {
  const { db, clock, log, security } = deps;
  const email = input.email.trim().toLowerCase();
  const keys = throttleKeys(email, input.ip);
  const now = clock.now();
  // Counted before the password is checked, so concurrent guesses cannot all get through.
  const wait = await beginAttempt(db, keys, now);
  if (wait > 0) {
    log.warn('auth.sign_in_throttled', { email, ip: input.ip, retryAfterSeconds: wait });
    const when =
      wait < 60
        ? `${wait} second${wait === 1 ? '' : 's'}`
        : `${Math.ceil(wait / 60)} minute${wait > 60 ? 's' : ''}`;
    throw new TooManyRequestsError(`Too many failed sign-in attempts. Try again in ${when}.`, wait);
  }
  const admin = await findAdminByEmail(db, email);
  const check = await verifyPassword(
    input.password,
    admin?.passwordHash ?? (await timingDummyHash(security.pbkdf2Iterations)),
    security.pbkdf2Iterations,
  );
  if (!admin || !check.ok || admin.disabledAt) {
    // Already counted by beginAttempt; it stays counted.
    log.warn('auth.sign_in_failed', {
      email,
      ip: input.ip,
      reason: !admin ? 'unknown_email' : admin.disabledAt ? 'disabled' : 'wrong_password',
    });
    throw new InvalidCredentialsError();
  }
  const passwordHash = check.needsRehash
    ? await hashPassword(input.password, security.pbkdf2Iterations)
    : undefined;
  const result = await db.transaction(async (tx) => {
    const [updated] = await tx
      .update(admins)
      .set({ lastLoginAt: now, ...(passwordHash ? { passwordHash } : {}) })
      .where(eq(admins.id, admin.id))
      .returning();
    const { token } = await createSession(tx, {
      adminId: admin.id,
      userAgent: input.userAgent,
      now,
    });
    await recordAudit(
      tx,
      { actor: { type: 'admin', id: admin.id, label: admin.email }, requestId: input.requestId },
      {
        action: 'admin.sign_in',
        subjectType: 'admin',
        subjectId: admin.id,
        payload: { ip: input.ip },
      },
    );
    return { token, admin: toView(updated ?? admin) };
  });
  await signedIn(db, keys);
  log.info('auth.sign_in', { adminId: admin.id, ip: input.ip });
  return result;
}

/** Ends the session behind a cookie token; audited when it was live. */
export async function signOut(
  deps: Deps,
  input: { token: string; requestId: string | null },
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const adminId = await revokeSession(tx, input.token, deps.clock.now());
    if (!adminId) return;
    const [admin] = await tx
      .select({ email: admins.email })
      .from(admins)
      .where(eq(admins.id, adminId));
    await recordAudit(
      tx,
      {
        actor: { type: 'admin', id: adminId, label: admin?.email ?? adminId },
        requestId: input.requestId,
      },
      { action: 'admin.sign_out', subjectType: 'admin', subjectId: adminId },
    );
  });
}
