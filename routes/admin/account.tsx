import { Hono } from 'hono';
import { z } from 'zod';
import { changePassword, setAdminTimeZone } from '../../src/auth/admins.ts';
import { revokeAllSessions } from '../../src/auth/sessions.ts';
import { AppError, TooManyRequestsError } from '../../src/lib/errors.ts';
import { PasswordPage } from '../../views/pages/password.tsx';
import { type AppEnv, clientIp, ctxOf } from '../env.ts';
import { redirectWithFlash } from './flash.ts';
import { htmlValidator } from './validate.ts';

const PasswordForm = z.object({
  currentPassword: z.string().max(1024),
  newPassword: z.string().max(1024),
  confirmPassword: z.string().max(1024),
});

const TimeZoneForm = z.object({
  timeZone: z
    .string()
    .max(100)
    .refine(
      (zone) => zone === '' || Intl.supportedValuesOf('timeZone').includes(zone) || zone === 'UTC',
      'unknown time zone',
    ),
});

/** Console: the signed-in admin's own password and display zone. */
export function accountRoutes() {
  const app = new Hono<AppEnv>();
  const page = { title: 'Change password', active: 'settings' as const };

  app.get('/password', (c) =>
    c.render(<PasswordPage forced={c.get('admin')?.mustChangePassword ?? false} />, page),
  );

  app.post('/password', htmlValidator('form', PasswordForm), async (c) => {
    const admin = c.get('admin');
    const session = c.get('session');
    if (!admin || !session) throw new Error('account route without a session');
    const form = c.req.valid('form');
    const forced = admin.mustChangePassword;
    if (form.newPassword !== form.confirmPassword) {
      c.status(422);
      return c.render(
        <PasswordPage forced={forced} error="The two new passwords do not match." />,
        page,
      );
    }
    try {
      await changePassword({
        ctx: ctxOf(c),
        input: {
          adminId: admin.id,
          currentPassword: form.currentPassword,
          newPassword: form.newPassword,
          ip: clientIp(c),
        },
      });
    } catch (err) {
      if (err instanceof TooManyRequestsError) {
        c.status(429);
        c.header('Retry-After', String(err.retryAfterSeconds));
        return c.render(<PasswordPage forced={forced} error={err.message} />, page);
      }
      if (err instanceof AppError && err.status === 422) {
        c.status(422);
        return c.render(<PasswordPage forced={forced} error={err.message} />, page);
      }
      throw err;
    }
    // Other browsers signed in as this admin are signed out; this one stays.
    await revokeAllSessions(c.get('deps').db, admin.id, c.get('deps').clock.now(), session.id);
    return redirectWithFlash(c, forced ? '/admin' : '/admin/settings', {
      tone: 'ok',
      text: forced
        ? 'Your own password is set: use it from now on. Welcome to fleetwarden.'
        : 'Your password was changed. Other sessions were signed out.',
    });
  });

  app.post('/time-zone', htmlValidator('form', TimeZoneForm), async (c) => {
    const admin = c.get('admin');
    if (!admin) throw new Error('account route without a session');
    const timeZone = c.req.valid('form').timeZone || null;
    await setAdminTimeZone({ ctx: ctxOf(c), input: { adminId: admin.id, timeZone } });
    return redirectWithFlash(c, '/admin/settings', {
      tone: 'ok',
      text: timeZone
        ? `Saved: times are shown in ${timeZone}.`
        : "Saved: times are shown in your browser's zone.",
    });
  });

  return app;
}
