import { asc, eq, sql } from 'drizzle-orm';
import { encodeBase64Url } from 'hono/utils/encode';
import type { Db } from '../../db/client.ts';
import { admins } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx } from '../deps.ts';
import { randomBytes } from '../lib/crypto.ts';
import {
  ConflictError,
  NotFoundError,
  TooManyRequestsError,
  UnprocessableError,
} from '../lib/errors.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { beginAttempt, signedIn, throttleKeys } from './throttle.ts';

export type Admin = typeof admins.$inferSelect;
/** An admin as other modules see it: never the password hash. */
export type AdminView = Omit<Admin, 'passwordHash'>;

export const MIN_PASSWORD_LENGTH = 12;

export function toView({ passwordHash: _, ...rest }: Admin): AdminView {
  return rest;
}

export async function findAdminByEmail(db: Db, email: string): Promise<Admin | null> {
  const [row] = await db
    .select()
    .from(admins)
    .where(sql`lower(${admins.email}) = ${email.trim().toLowerCase()}`);
  return row ?? null;
}

export async function listAdmins(db: Db): Promise<AdminView[]> {
  const rows = await db.select().from(admins).orderBy(asc(admins.email));
  return rows.map(toView);
}

function checkPasswordRules(password: string) {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new UnprocessableError(
      `The password must be at least ${MIN_PASSWORD_LENGTH} characters.`,
      {},
      'weak-password',
    );
}

/** 18 random bytes, base64url: a one-time password to hand to a new admin. */
export function generateOneTimePassword(): string {
  return encodeBase64Url(randomBytes(18).buffer);
}

/**
 * Adds an admin with a generated one-time password, returned once; they must choose
 * their own at first sign-in. 409 when the email is taken (case-insensitive). Audited.
 */
export async function createAdmin({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { email: string; displayName?: string | null };
}): Promise<{ admin: AdminView; oneTimePassword: string }> {
  const oneTimePassword = generateOneTimePassword();
  const passwordHash = await hashPassword(oneTimePassword, ctx.security.pbkdf2Iterations);
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(admins)
      .values({
        email: input.email.trim().toLowerCase(),
        displayName: input.displayName?.trim() || null,
        passwordHash,
        mustChangePassword: true,
      })
      .onConflictDoNothing()
      .returning();
    if (!row)
      throw new ConflictError(
        `An admin with the email ${input.email} already exists.`,
        {},
        'admin-exists',
      );
    await recordAudit(tx, ctx, {
      action: 'admin.create',
      subjectType: 'admin',
      subjectId: row.id,
      payload: { email: row.email },
    });
    return { admin: toView(row), oneTimePassword };
  });
}

/**
 * Changes the acting admin's password after checking the current one. The check is
 * throttled exactly like a sign-in, on the same counters (`throttle.ts`: the admin's email
 * and the client's address), so a stolen session cannot guess the password faster through
 * this form. Both outcomes are audited (`admin.password_change`,
 * `admin.password_change_failed`).
 *
 * @throws TooManyRequestsError (429, `retryAfterSeconds`) while throttled, without checking;
 *   UnprocessableError 422 `wrong-password` or `weak-password`; NotFoundError.
 */
export async function changePassword({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { adminId: string; currentPassword: string; newPassword: string; ip: string | null };
}): Promise<void> {
  const [row] = await ctx.db.select().from(admins).where(eq(admins.id, input.adminId));
  if (!row) throw new NotFoundError('Admin', input.adminId);
  const keys = throttleKeys(row.email, input.ip);
  const wait = await beginAttempt(ctx.db, keys, ctx.clock.now());
  if (wait > 0) {
    ctx.log.warn('auth.password_check_throttled', { adminId: row.id, ip: input.ip, wait });
    throw new TooManyRequestsError(
      `Too many wrong current passwords. Try again in ${wait} second${wait === 1 ? '' : 's'}.`,
      wait,
    );
  }
  const check = await verifyPassword(
    input.currentPassword,
    row.passwordHash,
    ctx.security.pbkdf2Iterations,
  );
  if (!check.ok) {
    await recordAudit(ctx.db, ctx, {
      action: 'admin.password_change_failed',
      subjectType: 'admin',
      subjectId: row.id,
      payload: { reason: 'wrong_password', ip: input.ip },
    });
    throw new UnprocessableError('The current password is not correct.', {}, 'wrong-password');
  }
  await signedIn(ctx.db, keys);
  checkPasswordRules(input.newPassword);
  if (input.newPassword === input.currentPassword)
    throw new UnprocessableError(
      'Choose a password different from the current one.',
      {},
      'weak-password',
    );
  const passwordHash = await hashPassword(input.newPassword, ctx.security.pbkdf2Iterations);
  await ctx.db.transaction(async (tx) => {
    await tx
      .update(admins)
      .set({ passwordHash, mustChangePassword: false })
      .where(eq(admins.id, row.id));
    await recordAudit(tx, ctx, {
      action: 'admin.password_change',
      subjectType: 'admin',
      subjectId: row.id,
      payload: { ip: input.ip },
    });
  });
}

/** Sets the zone the console shows times in (null: follow the browser). Audited. */
export async function setAdminTimeZone({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { adminId: string; timeZone: string | null };
}) {
  await ctx.db.transaction(async (tx) => {
    await tx.update(admins).set({ timeZone: input.timeZone }).where(eq(admins.id, input.adminId));
    await recordAudit(tx, ctx, {
      action: 'admin.time_zone_change',
      subjectType: 'admin',
      subjectId: input.adminId,
      payload: { timeZone: input.timeZone },
    });
  });
}

/**
 * Disables another admin and ends their sessions (the session check reads `disabled_at`).
 * An admin cannot disable themself, so the console always keeps one way in. Idempotent.
 */
export async function disableAdmin({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { adminId: string };
}): Promise<AdminView> {
  if (ctx.actor.type === 'admin' && ctx.actor.id === input.adminId)
    throw new UnprocessableError('You cannot disable your own account.', {}, 'cannot-disable-self');
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.select().from(admins).where(eq(admins.id, input.adminId)).for('update');
    if (!row) throw new NotFoundError('Admin', input.adminId);
    if (row.disabledAt) return toView(row);
    const [updated] = await tx
      .update(admins)
      .set({ disabledAt: ctx.clock.now() })
      .where(eq(admins.id, row.id))
      .returning();
    await recordAudit(tx, ctx, {
      action: 'admin.disable',
      subjectType: 'admin',
      subjectId: row.id,
      payload: { email: row.email },
    });
    return toView(updated ?? row);
  });
}
